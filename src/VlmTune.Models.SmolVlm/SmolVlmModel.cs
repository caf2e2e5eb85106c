using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>
/// SmolVLM / Idefics3 for conditional generation (spec smolvlm.md §2): vision tower → pixel-shuffle connector →
/// Llama decoder, image features replacing the `&lt;image&gt;` token rows in order.
/// Legend: B batch, L tokens, n real tiles in the batch, S patches per tile, S' = S/r² image tokens per tile,
/// Dv vision width, Dt text width, V vocabulary.
/// Precision: <see cref="ComputeDType"/> is the activation dtype. Pixels and token embeddings enter in it, so every
/// hidden state, the image features and the logits are in it (bf16: GEMMs accumulate in f32, norms / softmax /
/// attention statistics and the losses are f32 inside the kernels). Frozen weights keep their stored dtype (f32, bf16
/// or 4-bit); LoRA weights stay f32 (their branch runs in f32 and is cast to the activation dtype before the add).
/// </summary>
public sealed class SmolVlmModel
{
    DType _computeDType = DType.F32;

    public SmolVlmConfig Config { get; }
    public ParameterSet Parameters { get; }
    public VisionEncoder Vision { get; }
    public Linear Connector { get; }
    public TextDecoder Text { get; }
    public Device Device { get; }

    /// <summary>How this model's base was prepared for training (set by the trainers); adapters saved from it record it.</summary>
    public Adapters.BasePreparation? Preparation { get; set; }

    /// <summary>The activation dtype: f32 (the default) or bf16.</summary>
    public DType ComputeDType
    {
        get => _computeDType;
        set
        {
            if (value is not (DType.F32 or DType.BF16))
                throw new ArgumentOutOfRangeException(nameof(value), value, "the compute dtype must be f32 or bf16");
            _computeDType = value;
        }
    }

    public SmolVlmModel(IWeightSource weights, SmolVlmConfig config)
    {
        Config = config;
        Device = weights.Device;
        Parameters = new ParameterSet();
        var root = new WeightScope(weights, Parameters);
        var model = root.Sub("model");
        Vision = new VisionEncoder(model.Sub("vision_model"), config.Vision);
        Connector = model.Sub("connector").Sub("modality_projection").Linear("proj", config.ConnectorInputDim, config.Text.HiddenSize, false);
        Text = new TextDecoder(model.Sub("text_model"), root, config.Text, config.LmHeadTied);
    }

    /// <summary>
    /// Every linear layer with its HF module path (e.g. "model.text_model.layers.0.self_attn.q_proj", "lm_head") and
    /// the tower it belongs to — what adapter targeting (PEFT names, tower choice) works on.
    /// </summary>
    public IEnumerable<(string Path, Linear Layer, Tower Tower)> NamedLinears()
    {
        const string v = "model.vision_model.encoder.layers.";
        for (int i = 0; i < Vision.Layers.Count; i++)
        {
            var l = Vision.Layers[i];
            foreach (var (n, lin) in new[] { ("self_attn.q_proj", l.Q), ("self_attn.k_proj", l.K), ("self_attn.v_proj", l.V),
                         ("self_attn.out_proj", l.Out), ("mlp.fc1", l.Fc1), ("mlp.fc2", l.Fc2) })
                yield return ($"{v}{i}.{n}", lin, Tower.Vision);
        }
        yield return ("model.connector.modality_projection.proj", Connector, Tower.Connector);
        const string t = "model.text_model.layers.";
        for (int i = 0; i < Text.Layers.Count; i++)
        {
            var l = Text.Layers[i];
            foreach (var (n, lin) in new[] { ("self_attn.q_proj", l.Q), ("self_attn.k_proj", l.K), ("self_attn.v_proj", l.V),
                         ("self_attn.o_proj", l.O), ("mlp.gate_proj", l.Gate), ("mlp.up_proj", l.Up), ("mlp.down_proj", l.Down) })
                yield return ($"{t}{i}.{n}", lin, Tower.Text);
        }
        yield return ("lm_head", Text.LmHead, Tower.LmHead);
    }

    /// <summary>Loads config.json and the safetensors weights of a checkpoint directory.</summary>
    public static SmolVlmModel Load(string dir, Device device, out IReadOnlyList<string> unusedKeys)
    {
        var config = SmolVlmConfig.Load(dir);
        using var weights = new CheckpointWeights(dir, device);
        var model = new SmolVlmModel(weights, config);
        unusedKeys = weights.Unused();
        return model;
    }

    /// <summary>Image features for tiles (n, 3, M, M): vision tower, pixel shuffle, projection → (n, S', Dt), in the compute dtype.</summary>
    public Tensor ImageFeatures(Tensor tiles, Tensor? positionIds, Tensor? keyMask)
    {
        var h = Vision.Forward(Ops.ToDType(tiles, ComputeDType), positionIds, keyMask);
        return Connector.Forward(Ops.PixelShuffle(h, Config.ScaleFactor));
    }

    /// <summary>Full forward → logits (B, L, V). With <paramref name="cache"/>, positions continue after the cached ones.</summary>
    public Tensor Forward(SmolVlmInputs inputs, KvCache? cache = null, bool lastPositionOnly = false)
    {
        var embeds = Embed(inputs);
        return Decode(embeds, inputs.Batch, inputs.AttentionMask, cache, lastPositionOnly);
    }

    /// <summary>
    /// Forward from precomputed image features (n, S', Dt) — e.g. from the on-disk feature cache, or computed per image
    /// by <see cref="ImageFeatures(Tensor, Tensor?, Tensor?)"/> — skipping the vision tower; <paramref name="tilesPerSample"/>
    /// counts each sample's tiles. Pixel fields of <paramref name="inputs"/> are ignored.
    /// </summary>
    public Tensor Forward(SmolVlmInputs inputs, Tensor? features, int[] tilesPerSample) =>
        Decode(Embed(inputs, features, tilesPerSample), inputs.Batch, inputs.AttentionMask, null, lastPositionOnly: false);

    /// <summary>As <see cref="Forward(SmolVlmInputs, Tensor?, int[])"/> up to the final hidden states (B, L, Dt): no lm_head (see <see cref="LogitsAt"/>).</summary>
    public Tensor Hidden(SmolVlmInputs inputs, Tensor? features, int[] tilesPerSample) =>
        DecodeHidden(Embed(inputs, features, tilesPerSample), inputs.Batch, inputs.AttentionMask, null);

    /// <summary>The shape of one tile's image features: (S' = image_seq_len, Dt = text width).</summary>
    public (int Rows, int Width) FeatureShape => (Config.ImageSeqLen, Config.Text.HiddenSize);

    /// <summary>Token embeddings with image features merged at `&lt;image&gt;` positions: (B, L, Dt).</summary>
    public Tensor Embed(SmolVlmInputs inputs)
    {
        var features = ImageFeatures(inputs, out var perSample);
        return Embed(inputs, features, perSample);
    }

    /// <summary>
    /// Image features (n, S', Dt) of the batch's real tiles in order (all-zero tiles are padding), or null without
    /// images; <paramref name="tilesPerSample"/> counts each sample's real tiles. Lets callers share the vision pass
    /// between sequences (DPO: chosen and rejected use the same image features).
    /// </summary>
    public Tensor? ImageFeatures(SmolVlmInputs inputs, out int[] tilesPerSample)
    {
        var tiles = RealTiles(inputs, out tilesPerSample, out var tileMasks);
        if (tiles == null) return null;
        int n = tiles.Shape[0];
        var positions = VisionPositions.Compute(tileMasks, n, Config.Vision.ImageSize, Config.Vision.PatchSize);
        Tensor? posIds = null, keyMask = null;
        if (positions is var (pid, pmask))
        {
            int s = Config.Vision.PatchesPerTile;
            posIds = Ops.FromArray(pid, new Shape(n, s), Device);
            keyMask = Ops.FromArray(pmask, new Shape(n, s), Device);
        }
        return ImageFeatures(tiles, posIds, keyMask);
    }

    /// <summary>Merges given image features (n, S', Dt) into the token embeddings; checks every sample's `&lt;image&gt;` count.</summary>
    public Tensor Embed(SmolVlmInputs inputs, Tensor? features, int[] tilesPerSample)
    {
        int b = inputs.Batch, l = inputs.Length;
        var ids = Ops.FromArray(inputs.InputIds, new Shape(b, l), Device);
        var text = Ops.Embedding(ids, Text.EmbedTokens, ComputeDType);                     // (B, L, Dt)
        if (features == null)
        {
            int imageTokens = inputs.InputIds.Count(id => id == Config.ImageTokenId);
            if (imageTokens > 0) throw new ModelInputException($"the input has {imageTokens} <image> tokens but no images");
            return text;
        }
        int seq = Config.ImageSeqLen, n = features.Shape[0];
        if (tilesPerSample.Length != b || tilesPerSample.Sum() != n)
            throw new ModelInputException($"{n} image feature blocks for per-sample tile counts ({string.Join(",", tilesPerSample)})");
        CheckImageTokens(inputs, tilesPerSample, seq);
        // Merge: row p of the output takes text row p, or image row k for the k-th <image> token (in batch order).
        var source = new long[b * l];
        long next = b * l;
        for (int p = 0; p < source.Length; p++)
            source[p] = inputs.InputIds[p] == Config.ImageTokenId ? next++ : p;
        int dt = Config.Text.HiddenSize;
        var table = Ops.Concat([Ops.Reshape(text, b * l, dt), Ops.Reshape(Ops.ToDType(features, ComputeDType), n * seq, dt)], 0);
        return Ops.Embedding(Ops.FromArray(source, new Shape(b, l), Device), table, ComputeDType);
    }

    void CheckImageTokens(SmolVlmInputs inputs, int[] tilesPerSample, int seq)
    {
        int l = inputs.Length;
        for (int s = 0; s < inputs.Batch; s++)
        {
            int count = 0;
            for (int p = 0; p < l; p++) if (inputs.InputIds[s * l + p] == Config.ImageTokenId) count++;
            if (count != tilesPerSample[s] * seq)
                throw new ModelInputException(
                    $"sample {s}: {count} <image> tokens, but its {tilesPerSample[s]} image tiles give {tilesPerSample[s]} × {seq} = {tilesPerSample[s] * seq} image features");
        }
    }

    /// <summary>The non-padding tiles of the batch in order (n, 3, M, M), or null; an all-zero tile is padding.</summary>
    Tensor? RealTiles(SmolVlmInputs inputs, out int[] perSample, out bool[][]? masks)
    {
        perSample = new int[inputs.Batch];
        masks = null;
        if (inputs.PixelValues == null || inputs.TilesPerSample == 0) return null;
        int m = inputs.TileSize, tileLen = 3 * m * m, n = inputs.TilesPerSample;
        if (inputs.PixelValues.Length != inputs.Batch * n * tileLen)
            throw new ModelInputException($"pixel_values has {inputs.PixelValues.Length} values, expected {inputs.Batch}×{n}×3×{m}×{m}");
        if (m != Config.Vision.ImageSize)
            throw new ModelInputException($"tiles are {m}×{m} pixels but the vision tower expects {Config.Vision.ImageSize}×{Config.Vision.ImageSize}");
        var keep = new List<int>();
        for (int t = 0; t < inputs.Batch * n; t++)
        {
            var tile = new ReadOnlySpan<float>(inputs.PixelValues, t * tileLen, tileLen);
            if (tile.ContainsAnyExcept(0f)) { keep.Add(t); perSample[t / n]++; }
        }
        if (keep.Count == 0)
        {
            // HF keeps the first image when every one is padding (real_images_inds[0] = True); do the same when the
            // text asks for image features, else there are no images.
            if (!inputs.InputIds.Contains(Config.ImageTokenId)) return null;
            keep.Add(0);
            perSample[0]++;
        }
        var data = new float[keep.Count * tileLen];
        for (int i = 0; i < keep.Count; i++) Array.Copy(inputs.PixelValues, keep[i] * tileLen, data, i * tileLen, tileLen);
        if (inputs.PixelAttentionMask != null)
        {
            masks = new bool[keep.Count][];
            for (int i = 0; i < keep.Count; i++) masks[i] = inputs.PixelAttentionMask.AsSpan(keep[i] * m * m, m * m).ToArray();
        }
        return Ops.FromArray(data, new Shape(keep.Count, 3, m, m), Device);
    }

    /// <summary>
    /// Decoder + lm_head over merged embeddings (B, L, Dt; converted to the compute dtype) → logits (B, L or 1, V) in the
    /// compute dtype (the losses read bf16 logits and compute in f32; read them on the host with ToFloatArray).
    /// </summary>
    public Tensor Decode(Tensor embeds, int batch, long[]? attentionMask, KvCache? cache, bool lastPositionOnly)
    {
        var hidden = DecodeHidden(embeds, batch, attentionMask, cache);
        if (lastPositionOnly) hidden = Ops.Narrow(hidden, 1, hidden.Shape[1] - 1, 1);
        return Text.LmHead.Forward(hidden);
    }

    /// <summary>
    /// lm_head at chosen rows of the final hidden states (B, L, Dt), read as B·L rows in order → logits (N, V). The
    /// losses score only supervised positions; projecting every other position onto the vocabulary is work and B·L·V
    /// floats of memory thrown away (in the tiny model the vocabulary projection outweighs the whole decoder).
    /// </summary>
    public Tensor LogitsAt(Tensor hidden, long[] rows)
    {
        var (b, l, d) = hidden.Shape.Dims3();
        var picked = Ops.Embedding(Ops.FromArray(rows, new Shape(rows.Length), Device), Ops.Reshape(hidden, b * l, d), hidden.DType);
        return Text.LmHead.Forward(picked);
    }

    /// <summary>The decoder over merged embeddings (B, L, Dt) → final (normed) hidden states (B, L, Dt), no lm_head.</summary>
    public Tensor DecodeHidden(Tensor embeds, int batch, long[]? attentionMask, KvCache? cache)
    {
        embeds = Ops.ToDType(embeds, ComputeDType);
        int l = embeds.Shape[1], past = cache?.Length ?? 0;
        var positions = Ops.FromArray(Enumerable.Range(past, l).Select(i => (long)i).ToArray(), new Shape(l), Device);
        Tensor? keyMask = null;
        if (attentionMask != null)
        {
            if (attentionMask.Length != batch * (past + l))
                throw new ModelInputException($"attention_mask has {attentionMask.Length} entries, expected {batch}×{past + l}");
            keyMask = Ops.FromArray(attentionMask, new Shape(batch, past + l), Device);
        }
        return Text.Forward(embeds, positions, keyMask, cache);
    }
}
