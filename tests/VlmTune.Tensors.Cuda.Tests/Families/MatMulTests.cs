using VlmTune.Tensors.Cuda.Tests.Support;
using O = VlmTune.Tensors.Ops;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>
/// IBackend.MatMul on the simulator (the ILGPU GEMM provider) against the CPU backend. The CPU takes a f32 and b
/// f32/bf16 into an f32 c, so the oracle gets the same dtype-rounded inputs widened to f32 (bf16 b as is), and a
/// narrow c is compared after rounding the oracle's f32 result: within 1 ulp of that dtype.
/// </summary>
public class MatMulTests
{
    static ulong _seed = 100;

    /// <summary>
    /// f32 tolerance: the CPU's blocked kernel and ours sum K products in different orders, so an element that
    /// cancels to near 0 carries an absolute error of order eps·Σ|aᵢbᵢ| ≈ eps·K (unit normal inputs), not eps·|c|.
    /// </summary>
    static float Atol(int k) => 1e-6f * Math.Max(1, k);

    static void Check(CudaBackend device, int batch, int ba, int bb, int m, int n, int k, bool ta, bool tb,
        DType aT = DType.F32, DType bT = DType.F32, DType cT = DType.F32, float alpha = 1f, bool accumulate = false)
    {
        ulong seed = Interlocked.Add(ref _seed, 3);
        var a = O.ToDType(Sim.Rand(seed, ba, ta ? k : m, ta ? m : k), aT);
        var b = O.ToDType(Sim.Rand(seed + 1, bb, tb ? n : k, tb ? k : n), bT);
        var c = O.ToDType(Sim.Rand(seed + 2, batch, m, n), cT);

        // oracle: the same (rounded) values on the CPU in f32 (b may stay bf16)
        var ac = O.ToDType(a, DType.F32).To(Sim.Cpu);
        var bc = (bT == DType.BF16 ? b : O.ToDType(b, DType.F32)).To(Sim.Cpu);
        var cc = O.ToDType(c, DType.F32).To(Sim.Cpu);
        cc.Backend.MatMul(ac, ta, bc, tb, cc, alpha, accumulate);

        var ad = a.To(device.AsDevice());
        var bd = b.To(device.AsDevice());
        var cd = c.To(device.AsDevice());
        device.MatMul(ad, ta, bd, tb, cd, alpha, accumulate);
        string what = $"{batch}x({ba},{bb}) {m}x{n}x{k} ta={ta} tb={tb} {aT.Name()}·{bT.Name()}→{cT.Name()} alpha={alpha} acc={accumulate}";
        Assert.Equal(cT, cd.DType);
        if (cT == DType.F32) Close.Tensors(cc, cd, 1e-5f, Atol(k), what);
        else Ulp(O.ToDType(cc, cT).ToFloatArray(), cd.ToFloatArray(), cT, what);
    }

    /// <summary>Within one unit in the last place of <paramref name="t"/> (bf16: 8 bits, f16: 11 bits of precision).</summary>
    static void Ulp(float[] expected, float[] actual, DType t, string what)
    {
        int bits = t == DType.BF16 ? 8 : 11;
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], g = actual[i];
            float ulp = e == 0 ? 1e-30f : MathF.Pow(2, MathF.Floor(MathF.Log2(MathF.Abs(e))) - (bits - 1));
            if (MathF.Abs(g - e) > ulp * 1.0001f)
                throw new Xunit.Sdk.XunitException($"{what}: element {i}: expected {e:G9}, got {g:G9} (1 ulp = {ulp:G3})");
        }
    }

    static CudaBackend Dev => Sim.Backend;

    [Theory]
    [InlineData(1, 1, 1, false, false)]
    [InlineData(3, 5, 17, false, true)]
    [InlineData(17, 3, 33, true, false)]
    [InlineData(33, 17, 3, true, true)]
    [InlineData(65, 33, 17, false, true)]
    [InlineData(17, 65, 65, true, false)]
    [InlineData(5, 1, 65, false, false)]
    [InlineData(1, 65, 3, true, true)]
    public void F32_matches_cpu_for_odd_sizes_and_transposes(int m, int n, int k, bool ta, bool tb)
        => Check(Dev, 1, 1, 1, m, n, k, ta, tb);

    [Theory]
    [InlineData(3, 1, false, false)] // b broadcast, a batched, not transposed: folds into one GEMM of 3·m rows
    [InlineData(3, 1, true, true)]   // b broadcast with transposed a: a real batch
    [InlineData(1, 3, false, true)]  // a broadcast
    [InlineData(3, 3, true, false)]
    [InlineData(1, 1, false, false)] // both broadcast into a batch of 3
    public void Batches_and_batch_1_broadcast(int ba, int bb, bool ta, bool tb)
        => Check(Dev, 3, ba, bb, 17, 5, 9, ta, tb);

    [Theory]
    [InlineData(0.5f, true)]
    [InlineData(-2f, true)]
    [InlineData(0.25f, false)]
    public void Alpha_and_accumulate(float alpha, bool accumulate)
    {
        Check(Dev, 2, 2, 1, 7, 6, 5, false, true, alpha: alpha, accumulate: accumulate);
        Check(Dev, 2, 1, 2, 3, 9, 4, true, false, alpha: alpha, accumulate: accumulate);
    }

    [Theory]
    [InlineData(DType.BF16, DType.BF16, DType.BF16, false)]
    [InlineData(DType.BF16, DType.BF16, DType.BF16, true)]
    [InlineData(DType.BF16, DType.BF16, DType.F32, false)]
    [InlineData(DType.F16, DType.F16, DType.F16, true)]
    [InlineData(DType.F16, DType.F16, DType.F32, false)]
    public void Narrow_inputs_and_outputs(DType aT, DType bT, DType cT, bool accumulate)
    {
        Check(Dev, 1, 1, 1, 17, 33, 65, false, true, aT, bT, cT, accumulate: accumulate);
        Check(Dev, 2, 2, 2, 5, 3, 17, true, false, aT, bT, cT, alpha: 0.5f, accumulate: accumulate);
    }

    [Theory]
    [InlineData(DType.F32, DType.BF16, DType.F32)]  // activations × bf16 weights: b widened to f32
    [InlineData(DType.BF16, DType.F32, DType.F32)]  // a widened
    [InlineData(DType.F16, DType.BF16, DType.F32)]  // both widened
    [InlineData(DType.F32, DType.F32, DType.BF16)]  // f32 into bf16: through an f32 scratch c
    [InlineData(DType.F32, DType.BF16, DType.BF16)]
    public void Mixed_dtypes(DType aT, DType bT, DType cT)
    {
        Check(Dev, 1, 1, 1, 33, 17, 65, false, true, aT, bT, cT);
        Check(Dev, 3, 3, 1, 5, 7, 3, false, true, aT, bT, cT, alpha: 2f, accumulate: true);
    }

    [Fact]
    public void Strided_a_is_staged()
    {
        // a as a transposed view (strides not row-major): the backend copies it, the result is op(view)
        var x = Sim.Rand(7, 1, 9, 5); // stored (1, 9, 5); view (1, 5, 9)
        var w = Sim.Rand(8, 1, 9, 4);
        var cpu = O.Zeros(new Shape(1, 5, 4), DType.F32, Sim.Cpu);
        cpu.Backend.MatMul(O.Contiguous(O.Transpose(x, 1, 2)), false, w, false, cpu, 1f, false);
        var xd = x.To(Sim.Device);
        var cd = O.Zeros(new Shape(1, 5, 4), DType.F32, Sim.Device);
        Dev.MatMul(O.Transpose(xd, 1, 2), false, w.To(Sim.Device), false, cd, 1f, false);
        Close.Tensors(cpu, cd, 1e-5f, Atol(9));
    }

    [Fact]
    public void Empty_sizes()
    {
        // K = 0: c = 0 when writing, unchanged when accumulating; M = 0: nothing
        var c = Sim.Rand(9, 2, 3, 4).To(Sim.Device);
        var before = c.ToFloatArray();
        var a = O.Empty(new Shape(2, 3, 0), DType.F32, Sim.Device);
        var b = O.Empty(new Shape(1, 0, 4), DType.BF16, Sim.Device);
        Dev.MatMul(a, false, b, false, c, 1f, accumulate: true);
        Assert.Equal(before, c.ToFloatArray());
        Dev.MatMul(a, false, b, false, c, 1f, accumulate: false);
        Assert.All(c.ToFloatArray(), v => Assert.Equal(0f, v));
        var e = O.Empty(new Shape(2, 0, 4), DType.F32, Sim.Device);
        Dev.MatMul(O.Empty(new Shape(2, 0, 5), DType.F32, Sim.Device), false, O.Empty(new Shape(2, 5, 4), DType.F32, Sim.Device), false, e, 1f, false);
    }

    [Fact]
    public void Shape_mismatch_is_a_shape_error()
    {
        var a = O.Empty(new Shape(1, 3, 4), DType.F32, Sim.Device);
        var b = O.Empty(new Shape(1, 5, 2), DType.F32, Sim.Device);
        var c = O.Empty(new Shape(1, 3, 2), DType.F32, Sim.Device);
        var e = Assert.Throws<ShapeException>(() => Dev.MatMul(a, false, b, false, c, 1f, false));
        Assert.Contains("does not give c", e.Message);
        Assert.Throws<ShapeException>(() => Dev.MatMul(a, false, O.Empty(new Shape(2, 4, 2), DType.F32, Sim.Device), false, c, 1f, false));
        Assert.Throws<ShapeException>(() => Dev.MatMul(O.Empty(new Shape(1, 3, 4), DType.I32, Sim.Device), false,
            O.Empty(new Shape(1, 4, 2), DType.F32, Sim.Device), false, c, 1f, false));
    }

    [Fact]
    public void Warp_32_device()
    {
        var wide = (CudaBackend)Sim.Wide.Backend;
        Check(wide, 2, 2, 1, 33, 17, 9, false, true, DType.F32, DType.BF16, DType.F32, accumulate: true);
        Check(wide, 1, 1, 1, 9, 65, 17, true, false, DType.BF16, DType.BF16, DType.BF16);
    }

    [Fact]
    public void Provider_is_the_ilgpu_kernel_in_simulation()
        => Assert.StartsWith("ilgpu-gemm", Dev.GemmProviderName);
}
