using VlmTune.Tensors.Cuda.Kernels;
using VlmTune.Tensors.Cuda.Tests.Support;
using O = VlmTune.Tensors.Ops;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>
/// Attention forward and backward against the CPU backend (the oracle). Small shapes; tileCap forces several query
/// and key tiles (and partial last tiles) at these small sizes; the default tiles are covered too.
/// </summary>
public class AttentionTests
{
    static readonly IBackend Cpu = Sim.Cpu.Backend;

    public sealed record Case(int B, int H, int Hkv, int T, int S, int D, bool Causal = false, int QOffset = 0,
        int[]? Mask = null, int TileCap = AttentionKernels.MaxTile, ulong Seed = 1)
    {
        public AttentionParams P => new(1f / MathF.Sqrt(D), Causal, QOffset);
    }

    sealed record Result(Tensor O, Tensor Lse, Tensor Dq, Tensor Dk, Tensor Dv);

    /// <summary>Inputs on the CPU (f32, optionally with bf16-representable values) for one case.</summary>
    sealed record Inputs(Tensor Q, Tensor K, Tensor V, Tensor? Mask, Tensor DO);

    static Inputs Make(Case c, bool bf16Values)
    {
        Tensor R(ulong s, params int[] shape)
        {
            var t = Sim.Rand(c.Seed * 100 + s, shape);
            return bf16Values ? O.ToDType(O.ToDType(t, DType.BF16), DType.F32) : t;
        }
        var q = R(1, c.B, c.H, c.T, c.D);
        var k = R(2, c.B, c.Hkv, c.S, c.D);
        var v = R(3, c.B, c.Hkv, c.S, c.D);
        var dO = R(4, c.B, c.H, c.T, c.D);
        var mask = c.Mask == null ? null : O.FromArray(c.Mask, new Shape(c.B, c.S), Sim.Cpu);
        return new Inputs(q, k, v, mask, dO);
    }

    static Result RunCpu(Case c, Inputs x)
    {
        var o = O.Empty(x.Q.Shape, DType.F32, Sim.Cpu);
        var lse = O.Empty(new Shape(c.B, c.H, c.T), DType.F32, Sim.Cpu);
        Cpu.Attention(x.Q, x.K, x.V, x.Mask, c.P, o, lse);
        var dq = O.Empty(x.Q.Shape, DType.F32, Sim.Cpu);
        var dk = O.Empty(x.K.Shape, DType.F32, Sim.Cpu);
        var dv = O.Empty(x.K.Shape, DType.F32, Sim.Cpu);
        Cpu.AttentionBackward(x.Q, x.K, x.V, x.Mask, c.P, o, lse, x.DO, dq, dk, dv);
        return new Result(o, lse, dq, dk, dv);
    }

    /// <summary>The same case on the simulated device; backward reads the device's own forward outputs.</summary>
    static Result RunCuda(Case c, Inputs x, Device device, DType dt = DType.F32)
    {
        var be = (CudaBackend)device.Backend;
        Tensor On(Tensor t) => O.ToDType(t, dt).To(device);
        var (q, k, v, dO) = (On(x.Q), On(x.K), On(x.V), On(x.DO));
        var mask = x.Mask?.To(device);
        // outputs start as NaN so that anything not written shows up
        Tensor Poisoned(Shape s, DType t) => O.ToDType(O.Full(s, float.NaN, device), t);
        var o = Poisoned(q.Shape, dt);
        var lse = Poisoned(new Shape(c.B, c.H, c.T), DType.F32);
        be.Attention(q, k, v, mask, c.P, o, lse, c.TileCap);
        var (dq, dk, dv) = (Poisoned(q.Shape, dt), Poisoned(k.Shape, dt), Poisoned(k.Shape, dt));
        be.AttentionBackward(q, k, v, mask, c.P, o, lse, dO, dq, dk, dv, c.TileCap);
        return new Result(o, lse, dq, dk, dv);
    }

    static void AssertF32(Case c, Device? device = null)
    {
        var x = Make(c, bf16Values: false);
        var e = RunCpu(c, x);
        var a = RunCuda(c, x, device ?? Sim.Device);
        Close.Tensors(e.O, a.O, what: $"o {c}");
        Close.Tensors(e.Lse, a.Lse, what: $"lse {c}");
        Close.Tensors(e.Dq, a.Dq, 1e-5f, 1e-6f, what: $"dq {c}");
        Close.Tensors(e.Dk, a.Dk, 1e-5f, 1e-6f, what: $"dk {c}");
        Close.Tensors(e.Dv, a.Dv, 1e-5f, 1e-6f, what: $"dv {c}");
    }

    static int[] Padded(int b, int s, params int[] lengths)
    {
        var m = new int[b * s];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < lengths[i]; j++) m[i * s + j] = 1;
        return m;
    }

    public static TheoryData<string, Case> F32Cases => new()
    {
        { "non-causal, default tiles", new Case(2, 2, 2, 13, 21, 16) },
        { "non-causal, 8-row tiles", new Case(1, 2, 2, 19, 27, 8, TileCap: 8) },
        { "causal D=64, two 32-row tiles", new Case(1, 2, 2, 37, 37, 64, Causal: true) },
        { "causal, T < S, keys no query sees", new Case(2, 1, 1, 21, 30, 16, Causal: true, QOffset: 3, TileCap: 8) },
        { "decode T=1", new Case(2, 2, 2, 1, 29, 16, Causal: true, QOffset: 28) },
        { "decode T=3, 8-row tiles", new Case(1, 2, 1, 3, 40, 8, Causal: true, QOffset: 37, TileCap: 8) },
        { "GQA H=4 Hkv=2 causal", new Case(1, 4, 2, 11, 17, 16, Causal: true, QOffset: 6, TileCap: 8) },
        { "GQA H=4 Hkv=1", new Case(2, 4, 1, 9, 13, 8, TileCap: 4) },
        { "padded keys", new Case(2, 2, 2, 10, 19, 16, Mask: Padded(2, 19, 19, 11), TileCap: 8) },
        // batch 0: keys 0..4 masked, causal → queries 0..4 see no key (o = 0, lse = −∞); batch 1: every key masked
        { "fully masked rows", new Case(2, 2, 1, 12, 12, 8, Causal: true,
            Mask: [0, 0, 0, 0, 0, 1, 1, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], TileCap: 4) },
        // odd D, odd tile rows and keys: the 2×2 register blocks have a missing row / column
        { "odd head size D=7", new Case(1, 2, 1, 9, 11, 7, Causal: true, QOffset: 2, Mask: Padded(1, 11, 10), TileCap: 5) },
        { "D=128, the limit (16-row key tiles)", new Case(1, 2, 1, 5, 18, 128, Causal: true, QOffset: 13) },
        { "GQA, mask, causal offset, D=64", new Case(1, 4, 2, 7, 33, 64, Causal: true, QOffset: 26, Mask: Padded(1, 33, 30)) },
    };

    [Theory]
    [MemberData(nameof(F32Cases))]
    public void F32_forward_and_backward_match_cpu(string name, Case c)
    {
        _ = name; // names the case in the test list
        AssertF32(c);
    }

    [Fact]
    public void Fully_masked_rows_give_zero_output_and_minus_infinity_lse()
    {
        var c = new Case(1, 1, 1, 4, 6, 8, Causal: true, Mask: [0, 0, 1, 1, 1, 1]);
        var x = Make(c, false);
        var a = RunCuda(c, x, Sim.Device);
        var o = a.O.ToFloatArray();
        var lse = a.Lse.ToFloatArray();
        Assert.Equal(float.NegativeInfinity, lse[0]);
        Assert.Equal(float.NegativeInfinity, lse[1]);
        Assert.True(float.IsFinite(lse[2]));
        Assert.All(o[..16], v => Assert.Equal(0f, v));
        Assert.All(a.Dq.ToFloatArray()[..16], v => Assert.Equal(0f, v));
        Assert.All(a.Dk.ToFloatArray()[..16], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Bf16_inputs_and_outputs_within_one_ulp()
    {
        // CPU: f32 on the same bf16-rounded inputs (and the same bf16 o fed to its backward), then rounded to bf16.
        var c = new Case(2, 4, 2, 10, 23, 16, Causal: true, QOffset: 13, Mask: Padded(2, 23, 23, 17), TileCap: 8);
        var x = Make(c, bf16Values: true);
        var dev = Sim.Device;
        var be = (CudaBackend)dev.Backend;
        Tensor Bf(Tensor t) => O.ToDType(t, DType.BF16);
        Tensor F(Tensor t) => O.ToDType(Bf(t), DType.F32);

        var oCpu = O.Empty(x.Q.Shape, DType.F32, Sim.Cpu);
        var lseCpu = O.Empty(new Shape(c.B, c.H, c.T), DType.F32, Sim.Cpu);
        Cpu.Attention(x.Q, x.K, x.V, x.Mask, c.P, oCpu, lseCpu);

        var (q, k, v, dO) = (Bf(x.Q).To(dev), Bf(x.K).To(dev), Bf(x.V).To(dev), Bf(x.DO).To(dev));
        var mask = x.Mask!.To(dev);
        var o = O.Empty(q.Shape, DType.BF16, dev);
        var lse = O.Empty(lseCpu.Shape, DType.F32, dev);
        be.Attention(q, k, v, mask, c.P, o, lse, c.TileCap);
        Bf16Close(Bf(oCpu), o, "o");
        Close.Tensors(lseCpu, lse, 1e-5f, 1e-5f, "lse");

        // backward from identical inputs on both sides: the CPU's o rounded to bf16, the CPU's lse
        var oB = F(oCpu);
        var (dqC, dkC, dvC) = (O.Empty(x.Q.Shape, DType.F32, Sim.Cpu), O.Empty(x.K.Shape, DType.F32, Sim.Cpu), O.Empty(x.K.Shape, DType.F32, Sim.Cpu));
        Cpu.AttentionBackward(x.Q, x.K, x.V, x.Mask, c.P, oB, lseCpu, x.DO, dqC, dkC, dvC);
        var (dq, dk, dv) = (O.Empty(q.Shape, DType.BF16, dev), O.Empty(k.Shape, DType.BF16, dev), O.Empty(k.Shape, DType.BF16, dev));
        be.AttentionBackward(q, k, v, mask, c.P, Bf(oB).To(dev), lseCpu.To(dev), dO, dq, dk, dv, c.TileCap);
        Bf16Close(Bf(dqC), dq, "dq");
        Bf16Close(Bf(dkC), dk, "dk");
        Bf16Close(Bf(dvC), dv, "dv");
    }

    /// <summary>Within one bf16 ulp of the reference (bf16 keeps 8 significant bits: one ulp ≤ 2⁻⁷·|x|).</summary>
    static void Bf16Close(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(DType.BF16, actual.DType);
        var e = expected.ToFloatArray();
        var a = actual.ToFloatArray();
        Assert.Equal(e.Length, a.Length);
        for (int i = 0; i < e.Length; i++)
        {
            float ulp = Ulp(e[i]);
            if (MathF.Abs(a[i] - e[i]) > ulp + 1e-6f)
                throw new Xunit.Sdk.XunitException($"{what}: element {i}: expected {e[i]:G9}, got {a[i]:G9} (1 bf16 ulp = {ulp:G3})");
        }
    }

    static float Ulp(float x)
    {
        if (x == 0f) return 0f;
        int exp = (int)((BitConverter.SingleToUInt32Bits(MathF.Abs(x)) >> 23) & 0xFF);
        return BitConverter.UInt32BitsToSingle((uint)Math.Max(1, exp - 7) << 23);
    }

    [Fact]
    public void Warp_32_matches_cpu()
    {
        // GQA, padding mask, causal offset and several tiles at the real GPU's warp width (32 threads per shuffle)
        AssertF32(new Case(1, 4, 2, 9, 14, 16, Causal: true, QOffset: 5, Mask: Padded(1, 14, 11), TileCap: 8), Sim.Wide);
    }

    [Fact]
    public void Strided_query_view_matches_cpu()
    {
        // q as the (B,H,T,D) transpose of a (B,T,H,D) tensor, as a model's head split produces it
        var c = new Case(1, 3, 3, 9, 11, 8, Causal: true, QOffset: 2, TileCap: 4);
        var x = Make(c, false);
        var e = RunCpu(c, x);
        var qBthd = O.Contiguous(O.Transpose(x.Q, 1, 2)).To(Sim.Device);
        var q = O.Transpose(qBthd, 1, 2);
        Assert.False(q.IsContiguous);
        var be = Sim.Backend;
        var o = O.Empty(q.Shape, DType.F32, Sim.Device);
        var lse = O.Empty(new Shape(1, 3, 9), DType.F32, Sim.Device);
        var (k, v) = (x.K.To(Sim.Device), x.V.To(Sim.Device));
        be.Attention(q, k, v, null, c.P, o, lse, c.TileCap);
        Close.Tensors(e.O, o, what: "o");
        Close.Tensors(e.Lse, lse, what: "lse");
        var (dq, dk, dv) = (O.Empty(q.Shape, DType.F32, Sim.Device), O.Empty(k.Shape, DType.F32, Sim.Device), O.Empty(k.Shape, DType.F32, Sim.Device));
        be.AttentionBackward(q, k, v, null, c.P, o, lse, x.DO.To(Sim.Device), dq, dk, dv, c.TileCap);
        Close.Tensors(e.Dq, dq, 1e-5f, 1e-5f, "dq");
        Close.Tensors(e.Dk, dk, 1e-5f, 1e-5f, "dk");
    }

    [Fact]
    public void Backward_is_deterministic_with_gqa()
    {
        var c = new Case(1, 4, 1, 6, 9, 8, Causal: true, QOffset: 3, TileCap: 4);
        var x = Make(c, false);
        var a = RunCuda(c, x, Sim.Device);
        var b = RunCuda(c, x, Sim.Device);
        Assert.Equal(a.Dk.ToArray<float>(), b.Dk.ToArray<float>());
        Assert.Equal(a.Dv.ToArray<float>(), b.Dv.ToArray<float>());
        Assert.Equal(a.Dq.ToArray<float>(), b.Dq.ToArray<float>());
    }

    [Fact]
    public void Empty_sequences()
    {
        // no keys: o = 0, lse = −∞, dq = 0; no queries: dk = dv = 0
        AssertF32(new Case(1, 2, 1, 3, 0, 8));
        var c = new Case(1, 2, 1, 0, 5, 8);
        var x = Make(c, false);
        var a = RunCuda(c, x, Sim.Device);
        Assert.All(a.Dk.ToFloatArray(), v => Assert.Equal(0f, v));
        Assert.All(a.Dv.ToFloatArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Head_size_above_the_limit_is_a_clear_error()
    {
        var q = O.Empty(new Shape(1, 1, 2, 136), DType.F32, Sim.Device);
        var lse = O.Empty(new Shape(1, 1, 2), DType.F32, Sim.Device);
        var ex = Assert.Throws<ShapeException>(() => Sim.Backend.Attention(q, q, q, null, new AttentionParams(1f, false, 0), q, lse));
        Assert.Contains("head size 136", ex.Message);
        Assert.Contains("128", ex.Message);
    }
}
