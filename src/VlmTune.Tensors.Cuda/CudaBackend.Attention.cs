using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

// Attention family: blocked (flash-style) forward with online softmax and a FlashAttention-2 backward, SIMT tiles in
// shared memory (Kernels/AttentionKernels.cs). q/k/v/o/dO/dq/dk/dv may be f32, bf16 or f16 with any 4-D strides
// (computed in f32); lse is f32; keyMask i32/i64. Head size D ≤ 128.
public sealed partial class CudaBackend
{
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, AttnArgs>? _attnFwd;
    Action<KernelConfig, KTensor, KTensor, ArrayView<float>, AttnArgs>? _attnDelta;
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, ArrayView<float>, KTensor, KTensor, AttnArgs>? _attnBwdKv;
    Action<KernelConfig, KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, ArrayView<float>, KTensor, AttnArgs>? _attnBwdQ;

    public void Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse)
        => Attention(q, k, v, keyMask, p, o, lse, AttentionKernels.MaxTile);

    public void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse, Tensor dO, Tensor dq, Tensor dk, Tensor dv)
        => AttentionBackward(q, k, v, keyMask, p, o, lse, dO, dq, dk, dv, AttentionKernels.MaxTile);

    /// <summary><see cref="Attention(Tensor, Tensor, Tensor, Tensor?, AttentionParams, Tensor, Tensor)"/> with tiles of at most <paramref name="tileCap"/> rows (tests use small tiles to cover many tiles).</summary>
    internal void Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse, int tileCap)
    {
        var a = AttentionArgs("attention", q, k, v, keyMask, p);
        Expect("attention", "o", o, q.Shape, floating: true);
        Expect("attention", "lse", lse, new Shape(a.B, a.H, a.T), floating: true);
        if ((long)a.B * a.H * a.T == 0) return;
        (a.BQ, a.BK) = AttentionKernels.Tiles(a.D, a.T, AttentionKernels.QBuf, AttentionKernels.KBuf, AttentionKernels.PBuf, tileCap);
        long tasks = (long)a.B * a.H * ((a.T + a.BQ - 1) / a.BQ);
        _attnFwd ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, AttnArgs>(AttentionKernels.Forward);
        _attnFwd(Rows(tasks), K(q), K(k), K(v), keyMask == null ? K(q) : K(keyMask), K(o), K(lse), a);
    }

    internal void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse,
        Tensor dO, Tensor dq, Tensor dk, Tensor dv, int tileCap)
    {
        var a = AttentionArgs("attention backward", q, k, v, keyMask, p);
        Expect("attention backward", "o", o, q.Shape, floating: true);
        Expect("attention backward", "lse", lse, new Shape(a.B, a.H, a.T), floating: true);
        Expect("attention backward", "dO", dO, q.Shape, floating: true);
        Expect("attention backward", "dq", dq, q.Shape, floating: true);
        Expect("attention backward", "dk", dk, k.Shape, floating: true);
        Expect("attention backward", "dv", dv, k.Shape, floating: true);
        var mask = keyMask == null ? K(q) : K(keyMask);
        long rowsTotal = (long)a.B * a.H * a.T;
        // Δ = rowsum(dO∘O), f32 scratch (B,H,T); returned to the allocator at the end (stream-ordered reuse is safe)
        using var deltaStore = (CudaStorage)Allocate(Math.Max(1, rowsTotal) * sizeof(float), zeroed: false);
        var delta = deltaStore.View.Cast<float>().SubView(0, Math.Max(1, rowsTotal));
        if (rowsTotal > 0)
        {
            _attnDelta ??= Accelerator.LoadStreamKernel<KTensor, KTensor, ArrayView<float>, AttnArgs>(AttentionKernels.Delta);
            _attnDelta(WarpRows(rowsTotal), K(o), K(dO), delta, a);
        }

        if (dk.Numel > 0)
        {
            // also runs with no queries (T = 0): it writes dk = dv = 0
            var kv = a;
            (kv.BQ, kv.BK) = AttentionKernels.Tiles(a.D, a.T, AttentionKernels.QBufKv, AttentionKernels.KBuf, AttentionKernels.PBufKv, tileCap);
            long kvTasks = (long)a.B * a.Hkv * ((a.S + kv.BK - 1) / kv.BK);
            _attnBwdKv ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, ArrayView<float>, KTensor, KTensor, AttnArgs>(AttentionKernels.BackwardKeyValue);
            _attnBwdKv(Rows(kvTasks), K(q), K(k), K(v), mask, K(lse), K(dO), delta, K(dk), K(dv), kv);
        }

        if (rowsTotal == 0) return;
        var qa = a;
        (qa.BQ, qa.BK) = AttentionKernels.Tiles(a.D, a.T, AttentionKernels.QBuf, AttentionKernels.KBuf, AttentionKernels.PBuf, tileCap);
        long qTasks = (long)a.B * a.H * ((a.T + qa.BQ - 1) / qa.BQ);
        _attnBwdQ ??= Accelerator.LoadStreamKernel<KTensor, KTensor, KTensor, KTensor, KTensor, KTensor, ArrayView<float>, KTensor, AttnArgs>(AttentionKernels.BackwardQuery);
        _attnBwdQ(Rows(qTasks), K(q), K(k), K(v), mask, K(lse), K(dO), delta, K(dq), qa);
    }

    static AttnArgs AttentionArgs(string op, Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p)
    {
        if (q.Rank != 4 || k.Rank != 4 || v.Shape != k.Shape)
            throw new ShapeException($"{op}: q {q.Shape}, k {k.Shape}, v {v.Shape} are not (B,H,T,D), (B,Hkv,S,D)");
        var (b, h, t, d) = q.Shape.Dims4();
        var (bk, hkv, s, dk) = k.Shape.Dims4();
        if (bk != b || dk != d || hkv == 0 || h % hkv != 0)
            throw new ShapeException($"{op}: q {q.Shape}, k {k.Shape}, v {v.Shape} are not (B,H,T,D), (B,Hkv,S,D) with H a multiple of Hkv");
        if (d > AttentionKernels.MaxD)
            throw new ShapeException($"{op}: head size {d} is above the CUDA backend's limit of {AttentionKernels.MaxD} (q {q.Shape})");
        foreach (var (x, name) in new[] { (q, "q"), (k, "k"), (v, "v") })
            if (!x.DType.IsFloat()) throw new ShapeException($"{op}: {name} must be f32/bf16/f16, got {x.DType.Name()}");
        if (keyMask != null && (keyMask.DType is not (DType.I32 or DType.I64) || keyMask.Shape != new Shape(b, s)))
            throw new ShapeException($"{op}: keyMask must be i32/i64 ({b},{s}), got {keyMask.DType.Name()} {keyMask.Shape}");
        return new AttnArgs
        {
            B = b, H = h, Hkv = hkv, T = t, S = s, D = d,
            Causal = p.Causal ? 1 : 0, QOffset = p.QOffset, HasMask = keyMask == null ? 0 : 1, Scale = p.Scale,
        };
    }

    static void Expect(string op, string name, Tensor t, Shape shape, bool floating)
    {
        if (t.Shape != shape) throw new ShapeException($"{op}: {name} must be {shape}, got {t.Shape}");
        if (floating && !t.DType.IsFloat()) throw new ShapeException($"{op}: {name} must be f32/bf16/f16, got {t.DType.Name()}");
    }
}
