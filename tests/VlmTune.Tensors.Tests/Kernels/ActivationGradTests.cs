using VlmTune.Tensors.Cpu;

namespace VlmTune.Tensors.Tests.Kernels;

// The vectorised GELU-tanh and SiLU kernels (8 lanes and a scalar tail) against their formulas in double precision,
// on a length that leaves a tail in every thread's chunk and on values from −9 to 9 (tanh and sigmoid saturate).
// The GELU derivative's 0.5·(1 + t) cancels in f32 where t → −1 (x ≈ −5), so the bound is absolute there (2e-5).
public sealed class ActivationGradTests
{
    const double C = 0.7978845608028654, A = 0.044715;

    public static TheoryData<int> Lengths() => new() { 7, 1037, 3 * 4096 + 5 };

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Gelu_tanh_and_silu_forward_and_backward_match_the_formulas(int n)
    {
        var device = new CpuBackend(2).AsDevice();
        var rng = new Random(n);
        var xs = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 18 - 9)).ToArray();
        var gs = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var x = Ops.FromArray(xs, new Shape(n), device);
        var g = Ops.FromArray(gs, new Shape(n), device);
        foreach (var op in new[] { UnaryOp.GeluTanh, UnaryOp.Silu })
        {
            var y = Ops.Empty(x.Shape, DType.F32, device);
            var dx = Ops.Empty(x.Shape, DType.F32, device);
            device.Backend.Unary(op, x, y);
            device.Backend.UnaryBackward(op, x, y, g, dx);
            var ys = y.ToArray<float>();
            var ds = dx.ToArray<float>();
            for (int i = 0; i < n; i++)
            {
                double v = xs[i], t = Math.Tanh(C * (v + A * v * v * v)), s = 1 / (1 + Math.Exp(-v));
                double f = op == UnaryOp.GeluTanh ? 0.5 * v * (1 + t) : v * s;
                double d = op == UnaryOp.GeluTanh
                    ? 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * C * (1 + 3 * A * v * v)
                    : s * (1 + v * (1 - s));
                Assert.True(Math.Abs(ys[i] - f) <= 1e-6 + 1e-5 * Math.Abs(f), $"{op} y[{i}] x={v}: {ys[i]} vs {f}");
                Assert.True(Math.Abs(ds[i] - d * gs[i]) <= 2e-5 + 1e-5 * Math.Abs(d * gs[i]), $"{op} dx[{i}] x={v}: {ds[i]} vs {d * gs[i]}");
            }
        }
    }
}
