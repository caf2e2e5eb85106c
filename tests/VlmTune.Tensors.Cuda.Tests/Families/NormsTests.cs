using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Support.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

// LayerNorm, RMSNorm, softmax / log-softmax (forward and backward) against the CPU backend. N = rows, C = features.
// Sim.Device has warp 4, groups of 8: rows of C ≤ 128 go to a warp, longer ones to a group; Sim.Wide (warp 32) sends
// C ≤ 1024 to a warp, so C = 1100 covers its group path.
public class NormsTests
{
    static IBackend Cpu => Sim.Cpu.Backend;

    public static TheoryData<int, int> Sizes => new() { { 5, 1 }, { 3, 7 }, { 9, 37 }, { 5, 300 }, { 3, 1000 } };

    /// <summary>Forward and backward of LayerNorm on <paramref name="device"/> vs the CPU; dw, db pre-filled (accumulate).</summary>
    static void LayerNormCase(Device device, int n, int c, bool bias, DType dtype, bool withDw = true, bool withDb = true, ulong seed = 1)
    {
        var x = Ops.Add(Sim.Rand(seed, n, c), Ops.Full(new Shape(n, c), 0.75f, Sim.Cpu)); // a mean far from 0
        var w = Sim.Rand(seed + 1, c);
        var b = Sim.Rand(seed + 2, c);
        var dy = Sim.Rand(seed + 3, n, c);
        var dw0 = Sim.Rand(seed + 4, c);
        var db0 = Sim.Rand(seed + 5, c);

        var (ox, ow, ob, ody) = (Oracle(x, dtype), Oracle(w, dtype), Oracle(b, dtype), Oracle(dy, dtype));
        var y = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        var mean = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        var rstd = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        Cpu.LayerNorm(ox, ow, bias ? ob : null, 1e-5f, y, mean, rstd);
        var dx = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        var (dw, db) = (Oracle(dw0, dtype).To(Sim.Cpu), Oracle(db0, dtype).To(Sim.Cpu)); // copies: the CPU accumulates into them
        Cpu.LayerNormBackward(ox, ow, mean, rstd, ody, dx, withDw ? dw : null, withDb ? db : null);

        var gx = On(x, device, dtype);
        var gy = Ops.Empty(x.Shape, dtype, device);
        var gmean = Ops.Empty(new Shape(n), DType.F32, device);
        var grstd = Ops.Empty(new Shape(n), DType.F32, device);
        var gw = On(w, device, dtype);
        device.Backend.LayerNorm(gx, gw, bias ? On(b, device, dtype) : null, 1e-5f, gy, gmean, grstd);
        var gdx = Ops.Empty(x.Shape, dtype, device);
        var (gdw, gdb) = (On(dw0, device, dtype), On(db0, device, dtype));
        device.Backend.LayerNormBackward(gx, gw, gmean, grstd, On(dy, device, dtype), gdx, withDw ? gdw : null, withDb ? gdb : null);

        string at = $"layer_norm ({n},{c}) bias={bias}";
        Check(y, gy, $"{at} y");
        Check(mean, gmean, $"{at} mean");
        Check(rstd, grstd, $"{at} rstd");
        Check(dx, gdx, $"{at} dx", atol: 2e-6f);
        // column sums over the rows, in another order than the CPU's: a little more absolute slack
        Check(dw, gdw, $"{at} dw", atol: 1e-5f);
        Check(db, gdb, $"{at} db", atol: 1e-5f);
    }

    static void RmsNormCase(Device device, int n, int c, DType dtype, bool withDw = true, ulong seed = 11)
    {
        var x = Sim.Rand(seed, n, c);
        var w = Sim.Rand(seed + 1, c);
        var dy = Sim.Rand(seed + 2, n, c);
        var dw0 = Sim.Rand(seed + 3, c);

        var (ox, ow) = (Oracle(x, dtype), Oracle(w, dtype));
        var y = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        var rstd = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        Cpu.RmsNorm(ox, ow, 1e-6f, y, rstd);
        var dx = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        var dw = Oracle(dw0, dtype).To(Sim.Cpu);
        Cpu.RmsNormBackward(ox, ow, rstd, Oracle(dy, dtype), dx, withDw ? dw : null);

        var gx = On(x, device, dtype);
        var gw = On(w, device, dtype);
        var gy = Ops.Empty(x.Shape, dtype, device);
        var grstd = Ops.Empty(new Shape(n), DType.F32, device);
        device.Backend.RmsNorm(gx, gw, 1e-6f, gy, grstd);
        var gdx = Ops.Empty(x.Shape, dtype, device);
        var gdw = On(dw0, device, dtype);
        device.Backend.RmsNormBackward(gx, gw, grstd, On(dy, device, dtype), gdx, withDw ? gdw : null);

        string at = $"rms_norm ({n},{c})";
        Check(y, gy, $"{at} y");
        Check(rstd, grstd, $"{at} rstd");
        Check(dx, gdx, $"{at} dx", atol: 2e-6f);
        Check(dw, gdw, $"{at} dw", atol: 1e-5f);
    }

    static void SoftmaxCase(Device device, int n, int c, bool log, DType dtype, ulong seed = 21)
    {
        var x = Ops.Mul(Sim.Rand(seed, n, c), Ops.Full(new Shape(n, c), 3f, Sim.Cpu));
        var dy = Sim.Rand(seed + 1, n, c);

        var y = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        Cpu.Softmax(Oracle(x, dtype), y, log);
        var gy = Ops.Empty(x.Shape, dtype, device);
        device.Backend.Softmax(On(x, device, dtype), gy, log);
        string at = $"{(log ? "log_softmax" : "softmax")} ({n},{c})";
        Check(y, gy, $"{at} y");

        // the backward from the device's own y (as autograd does), the oracle from the same values
        var oy = Ops.ToDType(gy, DType.F32).To(Sim.Cpu);
        var dx = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        Cpu.SoftmaxBackward(oy, Oracle(dy, dtype), dx, log);
        var gdx = Ops.Empty(x.Shape, dtype, device);
        device.Backend.SoftmaxBackward(gy, On(dy, device, dtype), gdx, log);
        Check(dx, gdx, $"{at} dx", atol: 2e-6f);
    }

    [Theory, MemberData(nameof(Sizes))]
    public void LayerNorm_matches_cpu(int n, int c) => LayerNormCase(Sim.Device, n, c, bias: true, DType.F32);

    [Fact]
    public void LayerNorm_without_bias_and_frozen_weight() => LayerNormCase(Sim.Device, 7, 37, bias: false, DType.F32, withDw: false);

    [Fact]
    public void LayerNorm_db_only_and_no_parameter_grads()
    {
        LayerNormCase(Sim.Device, 5, 300, bias: true, DType.F32, withDw: false, withDb: true);
        LayerNormCase(Sim.Device, 5, 7, bias: true, DType.F32, withDw: false, withDb: false);
    }

    [Theory]
    [InlineData(3, 7)]
    [InlineData(5, 300)]
    public void LayerNorm_bf16(int n, int c) => LayerNormCase(Sim.Device, n, c, bias: true, DType.BF16);

    /// <summary>Enough rows that dw/db are summed in several chunks (P = 3 at 16 threads per launch).</summary>
    [Fact]
    public void Parameter_grads_over_several_row_chunks_are_deterministic()
    {
        LayerNormCase(Sim.Device, 100, 7, bias: true, DType.F32, seed: 5);
        RmsNormCase(Sim.Device, 100, 7, DType.F32, seed: 6);

        var x = On(Sim.Rand(7, 100, 7), Sim.Device);
        var w = On(Sim.Rand(8, 7), Sim.Device);
        var dy = On(Sim.Rand(9, 100, 7), Sim.Device);
        var rstd = Ops.Empty(new Shape(100), DType.F32, Sim.Device);
        Sim.Device.Backend.RmsNorm(x, w, 1e-6f, Ops.Empty(x.Shape, DType.F32, Sim.Device), rstd);
        float[] Grad()
        {
            var dw = Ops.Zeros(new Shape(7), DType.F32, Sim.Device);
            Sim.Device.Backend.RmsNormBackward(x, w, rstd, dy, Ops.Empty(x.Shape, DType.F32, Sim.Device), dw);
            return dw.ToArray<float>();
        }
        Assert.Equal(Grad(), Grad());
    }

    [Fact]
    public void LayerNorm_of_a_strided_view()
    {
        // x is the transpose of a (C,N) tensor: column stride N, row stride 1
        int n = 6, c = 37;
        var xt = Sim.Rand(31, c, n);
        var x = Ops.Transpose(xt, 0, 1);
        var w = Sim.Rand(32, c);
        var y = Ops.Empty(new Shape(n, c), DType.F32, Sim.Cpu);
        var mean = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        var rstd = Ops.Empty(new Shape(n), DType.F32, Sim.Cpu);
        Cpu.LayerNorm(Ops.Contiguous(x), w, null, 1e-5f, y, mean, rstd);

        var gx = Ops.Transpose(On(xt, Sim.Device), 0, 1);
        Assert.False(gx.IsContiguous);
        var gy = Ops.Empty(new Shape(n, c), DType.F32, Sim.Device);
        var gmean = Ops.Empty(new Shape(n), DType.F32, Sim.Device);
        var grstd = Ops.Empty(new Shape(n), DType.F32, Sim.Device);
        Sim.Device.Backend.LayerNorm(gx, On(w, Sim.Device), null, 1e-5f, gy, gmean, grstd);
        Check(y, gy, "strided layer_norm y");
        Check(rstd, grstd, "strided layer_norm rstd");
    }

    [Theory, MemberData(nameof(Sizes))]
    public void RmsNorm_matches_cpu(int n, int c) => RmsNormCase(Sim.Device, n, c, DType.F32);

    [Fact]
    public void RmsNorm_frozen_weight() => RmsNormCase(Sim.Device, 5, 300, DType.F32, withDw: false);

    [Theory]
    [InlineData(3, 7)]
    [InlineData(5, 300)]
    public void RmsNorm_bf16(int n, int c) => RmsNormCase(Sim.Device, n, c, DType.BF16);

    [Theory]
    [InlineData(5, 1, false)]
    [InlineData(3, 7, true)]
    [InlineData(9, 37, false)]
    [InlineData(5, 300, true)]
    [InlineData(3, 1000, false)]
    [InlineData(3, 1000, true)]
    public void Softmax_matches_cpu(int n, int c, bool log) => SoftmaxCase(Sim.Device, n, c, log, DType.F32);

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Softmax_bf16(bool log) => SoftmaxCase(Sim.Device, 3, 300, log, DType.BF16);

    [Fact]
    public void Softmax_with_masked_entries()
    {
        // −∞ entries (masked) get probability 0; a row that is −∞ but for one entry is one-hot
        float ninf = float.NegativeInfinity;
        float[] v = [0.5f, ninf, 2f, ninf, -1f, ninf, ninf, ninf, 3f, ninf];
        var x = Ops.FromArray(v, new Shape(2, 5), Sim.Cpu);
        foreach (bool log in new[] { false, true })
        {
            var y = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
            Cpu.Softmax(x, y, log);
            var gy = Ops.Empty(x.Shape, DType.F32, Sim.Device);
            Sim.Device.Backend.Softmax(x.To(Sim.Device), gy, log);
            Check(y, gy, $"masked softmax log={log}");
        }
    }

    /// <summary>Warp 32: every norm kernel in warp mode (C = 300) and group mode (C = 1100).</summary>
    [Fact]
    public void Warp_32_matches_cpu()
    {
        foreach (int c in new[] { 300, 1100 })
        {
            LayerNormCase(Sim.Wide, 3, c, bias: true, DType.F32);
            RmsNormCase(Sim.Wide, 3, c, DType.F32);
            SoftmaxCase(Sim.Wide, 3, c, log: false, DType.F32);
            SoftmaxCase(Sim.Wide, 2, c, log: true, DType.F32);
        }
    }
}
