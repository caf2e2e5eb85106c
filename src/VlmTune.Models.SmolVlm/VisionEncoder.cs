using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm;

/// <summary>
/// SigLIP-style vision tower (spec smolvlm.md §2.2–2.3). Legend: n = tiles, C = 3 channels, P = patch, G = patches per
/// side, S = G² patches, D = vision width. Patch Conv2d (stride = kernel) as patchify + linear; learned position
/// embeddings; pre-LN encoder layers (bidirectional attention, GELU-tanh MLP); post LayerNorm.
/// </summary>
public sealed class VisionEncoder
{
    readonly SmolVlmVisionConfig _cfg;
    readonly Linear _patch;          // weight (D, C·P·P) — a view of the conv weight (D, C, P, P)
    readonly Tensor _positions;      // (S, D)
    readonly VisionLayer[] _layers;
    readonly LayerNorm _post;

    public VisionEncoder(WeightScope scope, SmolVlmVisionConfig cfg)
    {
        _cfg = cfg;
        int d = cfg.HiddenSize, p = cfg.PatchSize, c = cfg.NumChannels;
        float eps = (float)cfg.LayerNormEps;
        var emb = scope.Sub("embeddings");
        var conv = emb.Sub("patch_embedding");
        var w = conv.Get("weight", new Shape(d, c, p, p));
        _patch = new Linear(emb.Prefix + "patch_embedding", Ops.Reshape(w, d, c * p * p), conv.Get("bias", new Shape(d), f32: true));
        _positions = emb.Sub("position_embedding").Get("weight", new Shape(cfg.PatchesPerTile, d));
        _layers = Enumerable.Range(0, cfg.NumHiddenLayers).Select(i => new VisionLayer(scope.Sub($"encoder.layers.{i}"), cfg)).ToArray();
        _post = scope.LayerNorm("post_layernorm", d, eps);
    }

    public IReadOnlyList<VisionLayer> Layers => _layers;

    /// <summary>Recompute each encoder layer in the backward pass instead of keeping its activations (training only).</summary>
    public bool GradientCheckpointing { get; set; }

    /// <summary>
    /// pixels (n, C, H, W) → (n, S, D) in the pixels' dtype (f32 or bf16: the model's compute dtype).
    /// <paramref name="positionIds"/> (n, S) i64 and <paramref name="keyMask"/> (n, S) come from
    /// <see cref="VisionPositions"/>; null means full tiles (identity positions, no mask).
    /// </summary>
    public Tensor Forward(Tensor pixels, Tensor? positionIds, Tensor? keyMask)
    {
        var (n, _, _, _) = pixels.Shape.Dims4();
        int s = _cfg.PatchesPerTile;
        var h = _patch.Forward(Ops.Patchify(pixels, _cfg.PatchSize));                     // (n, S, D)
        var pos = positionIds == null
            ? Ops.Reshape(Ops.Embedding(Identity(n, s, pixels.Device), _positions, h.DType), n, s, _cfg.HiddenSize)
            : Ops.Embedding(positionIds, _positions, h.DType);
        h = Ops.Add(h, pos);
        bool recompute = GradientCheckpointing && Tensors.Autograd.GradMode.IsEnabled;
        foreach (var layer in _layers)
        {
            var l = layer;
            h = recompute ? Tensors.Autograd.Checkpoint.Run(a => l.Forward(a[0], keyMask), h) : l.Forward(h, keyMask);
        }
        return _post.Forward(h);
    }

    static Tensor Identity(int n, int s, Device device) =>
        Ops.FromArray(Enumerable.Range(0, n * s).Select(i => (long)(i % s)).ToArray(), new Shape(n, s), device);
}

