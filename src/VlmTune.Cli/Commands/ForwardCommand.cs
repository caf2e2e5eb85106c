using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Data;
using VlmTune.Images;
using VlmTune.Models.SmolVlm;
using VlmTune.Processing;
using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune forward --model DIR [--adapter A [--base as-trained|original]] --input INPUT.json --out OUT.safetensors [--hidden]`:
/// one full forward pass (with an adapter: on the base it was trained against, see AdaptedModelOptions); writes
/// <c>logits</c> F32 (B, L, V), the <c>input_ids</c> I64 (B, L) actually run (after any &lt;image&gt; expansion) and,
/// with --hidden, <c>hidden</c> F32 (B, L, D) = the decoder output after the final norm.
///
/// INPUT.json: {"input_ids": [..] | [[..], ..], "attention_mask"?: same shape of 0/1,
///   "images"?: ["a.png", ..] (batch of 1) | [["a.png"], [..]] (per sample; paths relative to INPUT.json),
///   "expand_images"?: true (each &lt;image&gt; id stands for one image and is replaced by its expansion),
///   "pixel_values"?: "pv.safetensors" (pixel_values (B, N, 3, M, M) or (N, 3, M, M) F32, optional
///   pixel_attention_mask (B, N, M, M) BOOL/U8; `vlmtune preprocess` output works for a batch of 1)}.
/// Without expansion the ids must already hold every image token; the model checks the counts.
/// </summary>
public static class ForwardCommand
{
    static readonly string[] Fields = ["input_ids", "attention_mask", "images", "expand_images", "pixel_values"];

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model checkpoint folder.", Required = true };
        var input = new Option<string>("--input") { Description = "INPUT.json (input_ids, attention_mask, images | pixel_values).", Required = true };
        var output = new Option<string>("--out") { Description = "Output .safetensors file (logits, input_ids[, hidden]).", Required = true };
        var hidden = new Option<bool>("--hidden") { Description = "Also write the final hidden states (after the last norm)." };
        var adapter = AdaptedModelOptions.CreateAdapter();
        var baseChoice = AdaptedModelOptions.CreateBase();
        var device = DeviceSelection.CreateOption();
        var nonRgb = ImageOptions.CreateNonRgbImages();
        var command = new Command("forward", "Run one forward pass and save the logits.");
        foreach (var o in new Option[] { model, adapter, baseChoice, input, output, hidden, device, nonRgb }) command.Options.Add(o);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(adapter), r.GetValue(baseChoice)!, r.GetValue(input)!, r.GetValue(output)!, r.GetValue(hidden), r.GetValue(device), r.GetValue(nonRgb)));
        return command;
    }

    static int Run(string modelDir, string? adapter, string baseChoice, string inputPath, string output, bool withHidden, string? deviceName,
        string? nonRgbImages)
    {
        if (!Directory.Exists(modelDir)) throw new UserErrorException($"{modelDir}: model folder does not exist");
        using var doc = ReadJson(inputPath);
        var root = doc.RootElement;
        foreach (var p in root.EnumerateObject())
            if (!Fields.Contains(p.Name)) throw new UserErrorException($"{inputPath}: unknown field \"{p.Name}\" (known: {string.Join(", ", Fields)})");
        string baseDir = Path.GetDirectoryName(Path.GetFullPath(inputPath))!;
        var ids = ReadRows(root, "input_ids", inputPath) ?? throw new UserErrorException($"{inputPath}: input_ids is required");
        var mask = ReadRows(root, "attention_mask", inputPath);
        if (mask != null && (mask.Length != ids.Length || mask.Where((m, b) => m.Length != ids[b].Length).Any()))
            throw new UserErrorException($"{inputPath}: attention_mask must have the shape of input_ids");
        bool expand = root.TryGetProperty("expand_images", out var e) && (e.ValueKind == JsonValueKind.True
            || (e.ValueKind != JsonValueKind.False ? throw new UserErrorException($"{inputPath}: expand_images must be true or false") : false));

        var clock = Stopwatch.StartNew();
        var device = DeviceSelection.Resolve(deviceName, null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
        var (net, _) = AdaptedModelOptions.Load(modelDir, adapter, baseChoice, device);
        double loadSeconds = clock.Elapsed.TotalSeconds;

        SmolVlmInputs inputs;
        if (root.TryGetProperty("images", out var images))
        {
            if (root.TryGetProperty("pixel_values", out _)) throw new UserErrorException($"{inputPath}: give images or pixel_values, not both");
            inputs = WithImages(ids, mask, ReadImagePaths(images, ids.Length, baseDir, inputPath), expand, AdaptedModelOptions.Processor(modelDir, adapter, nonRgbImages), inputPath);
        }
        else
        {
            if (expand) throw new UserErrorException($"{inputPath}: expand_images needs \"images\"");
            inputs = Pack(ids, mask, 0);
            if (root.TryGetProperty("pixel_values", out var pv))
                inputs = WithPixelFile(inputs, Path.Combine(baseDir, pv.GetString() ?? throw new UserErrorException($"{inputPath}: pixel_values must be a path")));
        }
        foreach (long id in inputs.InputIds)
            if (id < 0 || id >= net.Config.Text.VocabSize)
                throw new UserErrorException($"{inputPath}: input_ids: token id {id} is outside the vocabulary [0, {net.Config.Text.VocabSize})");

        clock.Restart();
        Tensor logits, hidden = null!;
        using (GradMode.NoGrad())
        {
            if (withHidden)
            {
                var embeds = net.Embed(inputs);
                var positions = Ops.FromArray(Enumerable.Range(0, inputs.Length).Select(i => (long)i).ToArray(), new Shape(inputs.Length), net.Device);
                var keyMask = inputs.AttentionMask == null ? null : Ops.FromArray(inputs.AttentionMask, new Shape(inputs.Batch, inputs.Length), net.Device);
                hidden = net.Text.Forward(embeds, positions, keyMask, cache: null);
                logits = net.Text.LmHead.Forward(hidden);
            }
            else logits = net.Forward(inputs);
        }
        double forwardSeconds = clock.Elapsed.TotalSeconds;

        int b = inputs.Batch, l = inputs.Length, v = net.Config.Text.VocabSize;
        var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "vlmtune-forward", ["model"] = Path.GetFullPath(modelDir) } };
        writer.Add("logits", DType.F32, [b, l, v], Bytes(logits.ToFloatArray()));
        writer.Add("input_ids", DType.I64, [b, l], Bytes(inputs.InputIds));
        if (withHidden) writer.Add("hidden", DType.F32, [b, l, net.Config.Text.HiddenSize], Bytes(hidden.ToFloatArray()));
        writer.WriteFile(output);
        int imageTokens = inputs.InputIds.Count(id => id == net.Config.ImageTokenId);
        Console.WriteLine($"wrote {output}: logits [{b}, {l}, {v}] F32{(withHidden ? $", hidden [{b}, {l}, {net.Config.Text.HiddenSize}] F32" : "")}, input_ids [{b}, {l}] I64");
        Console.WriteLine($"load {loadSeconds:F2} s, forward {forwardSeconds:F2} s ({b}×{l} tokens, {imageTokens} image tokens, {inputs.TilesPerSample} tiles per sample)");
        return 0;
    }

    static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    static JsonDocument ReadJson(string path)
    {
        try { return JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (Exception x) when (x is IOException or UnauthorizedAccessException) { throw new UserErrorException($"cannot read {path}: {x.Message}"); }
        catch (JsonException x) { throw new UserErrorException($"{path}: invalid JSON at line {x.LineNumber + 1}: {x.Message}"); }
    }

    /// <summary>A list of ints (one row) or a list of equal-length lists; null when absent.</summary>
    static long[][]? ReadRows(JsonElement root, string field, string source)
    {
        if (!root.TryGetProperty(field, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
            throw new UserErrorException($"{source}: {field} must be a non-empty list of integers or of lists");
        bool nested = value[0].ValueKind == JsonValueKind.Array;
        var rows = nested ? value.EnumerateArray().ToList() : [value];
        var result = new long[rows.Count][];
        for (int b = 0; b < rows.Count; b++)
        {
            if (rows[b].ValueKind != JsonValueKind.Array) throw new UserErrorException($"{source}: {field}[{b}] is not a list");
            result[b] = rows[b].EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.Number && x.TryGetInt64(out long n) ? n
                : throw new UserErrorException($"{source}: {field}{(nested ? $"[{b}]" : "")}[{i}] is not an integer: {x.GetRawText()}")).ToArray();
            if (result[b].Length == 0 || result[b].Length != result[0].Length)
                throw new UserErrorException($"{source}: {field}[{b}] has {result[b].Length} entries, row 0 has {result[0].Length} (rows must be non-empty and equally long)");
        }
        return result;
    }

    static string[][] ReadImagePaths(JsonElement images, int batch, string baseDir, string source)
    {
        if (images.ValueKind != JsonValueKind.Array) throw new UserErrorException($"{source}: images must be a list of paths");
        bool nested = images.GetArrayLength() > 0 && images[0].ValueKind == JsonValueKind.Array;
        var rows = nested ? images.EnumerateArray().ToList() : [images];
        if (rows.Count != batch) throw new UserErrorException($"{source}: images has {rows.Count} samples, input_ids has {batch}");
        return rows.Select((r, b) => r.EnumerateArray().Select((p, i) => p.ValueKind == JsonValueKind.String
            ? Path.Combine(baseDir, p.GetString()!)
            : throw new UserErrorException($"{source}: images[{b}][{i}] is not a path")).ToArray()).ToArray();
    }

    static SmolVlmInputs Pack(long[][] ids, long[][]? mask, int padId)
    {
        int l = ids.Max(r => r.Length);
        bool ragged = ids.Any(r => r.Length != l);
        var flat = new long[ids.Length * l];
        long[]? flatMask = mask != null || ragged ? new long[ids.Length * l] : null;
        for (int b = 0; b < ids.Length; b++)
        {
            flat.AsSpan(b * l, l).Fill(padId);                       // right padding, masked out
            ids[b].CopyTo(flat, b * l);
            if (flatMask != null)
            {
                if (mask != null) mask[b].CopyTo(flatMask, b * l);
                else flatMask.AsSpan(b * l, ids[b].Length).Fill(1);
            }
        }
        return new SmolVlmInputs { InputIds = flat, Batch = ids.Length, AttentionMask = flatMask };
    }

    static SmolVlmInputs WithImages(long[][] ids, long[][]? mask, string[][] paths, bool expand, SmolVlmProcessor processor, string source)
    {
        var processed = paths.Select(p => ImageOptions.Process(processor.ImageProcessor, p.Select(ImageOptions.Open).ToArray(), p)).ToArray();
        if (expand)
        {
            int image = processor.TokenIds.Image;
            for (int b = 0; b < ids.Length; b++)
            {
                int placeholders = ids[b].Count(id => id == image);
                if (placeholders != paths[b].Length)
                    throw new UserErrorException($"{source}: sample {b} has {placeholders} <image> ids but {paths[b].Length} images (expand_images wants one <image> per image)");
                var newIds = new List<long>();
                var newMask = new List<long>();
                int k = 0;
                for (int p = 0; p < ids[b].Length; p++)
                {
                    long[] piece = ids[b][p] != image ? [ids[b][p]]
                        : processor.Tokenizer.Encode(processor.Expander.ExpandImage(processed[b].ImageRows[k], processed[b].ImageCols[k++]), addSpecialTokens: false).Select(x => (long)x).ToArray();
                    newIds.AddRange(piece);
                    if (mask != null) newMask.AddRange(Enumerable.Repeat(mask[b][p], piece.Length));
                }
                ids[b] = newIds.ToArray();
                if (mask != null) mask[b] = newMask.ToArray();
            }
        }
        var inputs = Pack(ids, mask, processor.PadId);
        if (processed.All(p => p.TileCount == 0)) return inputs;
        var batch = ProcessedImageBatch.Pad(processed);
        return inputs with { PixelValues = batch.PixelValues, TilesPerSample = batch.MaxTiles, TileSize = batch.TileSize };
    }

    static SmolVlmInputs WithPixelFile(SmolVlmInputs inputs, string path)
    {
        if (!File.Exists(path)) throw new UserErrorException($"{path}: pixel_values file not found");
        using var file = SafeTensorsFile.Open(path);
        var info = file.TryGetInfo("pixel_values") ?? throw new UserErrorException($"{path}: has no tensor 'pixel_values'");
        if (info.DTypeName != "F32") throw new UserErrorException($"{path}: pixel_values is {info.DTypeName}, F32 is needed");
        var shape = info.Shape.Length == 4 ? [1, .. info.Shape] : info.Shape;
        if (shape.Length != 5 || shape[0] != inputs.Batch || shape[2] != 3 || shape[3] != shape[4])
            throw new UserErrorException($"{path}: pixel_values has shape [{string.Join(", ", info.Shape)}], expected [{inputs.Batch}, N, 3, M, M]");
        var pixels = MemoryMarshal.Cast<byte, float>(file.GetBytes("pixel_values")).ToArray();
        bool[]? pixelMask = null;
        if (file.TryGetInfo("pixel_attention_mask") is { } m)
        {
            long expected = shape[0] * shape[1] * shape[3] * shape[4];
            if (m.ElementCount != expected || (m.DTypeName != "BOOL" && m.DTypeName != "U8"))
                throw new UserErrorException($"{path}: pixel_attention_mask is {m.DTypeName}[{string.Join(", ", m.Shape)}], expected BOOL/U8 [{shape[0]}, {shape[1]}, {shape[3]}, {shape[4]}]");
            pixelMask = file.GetBytes("pixel_attention_mask").ToArray().Select(x => x != 0).ToArray();
        }
        return inputs with { PixelValues = pixels, TilesPerSample = (int)shape[1], TileSize = (int)shape[3], PixelAttentionMask = pixelMask };
    }
}
