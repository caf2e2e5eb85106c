using VlmTune.Tensors.Cpu;

namespace VlmTune.Tensors.Tests.Support;

/// <summary>
/// Finite-difference gradient check: for L = Σ f(x)·w with fixed random weights w, compares the autograd gradient
/// of every float input with central differences (x ± eps), elementwise, with a tolerance relative to the
/// gradient's magnitude. f32 arithmetic limits the precision, hence eps ≈ 1e-2·scale and tolerances ≈ 1e-2.
/// </summary>
public static class GradCheck
{
    public static Device Cpu => CpuBackend.Device;

    public static Tensor Rand(ulong seed, params int[] shape) => Ops.RandomNormal(new Shape(shape), seed, Cpu);

    public static void Check(Func<Tensor[], Tensor> f, Tensor[] inputs, float eps = 1e-2f, float tol = 2e-2f, int? maxProbes = 64)
    {
        var leaves = inputs.Select(x => x.DType == DType.F32 ? Ops.FromArray(x.ToArray<float>(), x.Shape, Cpu).RequireGrad() : x).ToArray();
        var y = f(leaves);
        var weights = Ops.RandomNormal(y.Shape, 12345, Cpu);
        var loss = Ops.Sum(Ops.Mul(y, weights));
        loss.Backward();

        var w = weights.ToArray<float>();
        for (int k = 0; k < leaves.Length; k++)
        {
            if (leaves[k].DType != DType.F32) continue;
            var analytic = leaves[k].Grad?.ToArray<float>() ?? new float[leaves[k].Numel];
            var x0 = leaves[k].ToArray<float>();
            double scale = Math.Max(1e-3, analytic.Select(Math.Abs).DefaultIfEmpty(0).Max());
            int n = x0.Length;
            int step = maxProbes is int m && n > m ? n / m : 1;
            for (int i = 0; i < n; i += step)
            {
                double numeric = (Eval(f, leaves, k, x0, i, eps, w) - Eval(f, leaves, k, x0, i, -eps, w)) / (2 * eps);
                double err = Math.Abs(numeric - analytic[i]);
                if (err > tol * scale + tol * Math.Abs(numeric))
                    throw new Xunit.Sdk.XunitException($"input {k} element {i}: analytic {analytic[i]:G6} vs numeric {numeric:G6} (scale {scale:G3})");
            }
        }
    }

    static double Eval(Func<Tensor[], Tensor> f, Tensor[] leaves, int k, float[] x0, int i, float delta, float[] w)
    {
        var x = (float[])x0.Clone();
        x[i] += delta;
        var args = (Tensor[])leaves.Clone();
        args[k] = Ops.FromArray(x, leaves[k].Shape, Cpu);
        using var _ = Autograd.GradMode.NoGrad();
        var y = f(args).ToArray<float>();
        double s = 0;
        for (int j = 0; j < y.Length; j++) s += (double)y[j] * w[j];
        return s;
    }
}
