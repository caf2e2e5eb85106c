using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Families.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class ElementwiseTests
{
    public static TheoryData<UnaryOp> UnaryOps => new(Enum.GetValues<UnaryOp>());
    public static TheoryData<BinaryOp> BinaryOps => new(Enum.GetValues<BinaryOp>());

    /// <summary>Inputs in each op's domain, odd-sized (3, 37): ±3 generally, (0.05, 3) for Log/Sqrt/Rsqrt.</summary>
    static Tensor Input(UnaryOp op, ulong seed) => op is UnaryOp.Log or UnaryOp.Sqrt or UnaryOp.Rsqrt
        ? Uniform(seed, 0.05f, 3f, 3, 37)
        : Uniform(seed, -3f, 3f, 3, 37);

    static float Scalar(UnaryOp op) => op switch { UnaryOp.Scale => -1.75f, UnaryOp.AddScalar => 0.625f, _ => 0f };

    [Theory, MemberData(nameof(UnaryOps))]
    public void Unary_matches_cpu(UnaryOp op)
    {
        var x = Input(op, 10 + (ulong)op);
        var cpu = Ops.Unary(op, x, Scalar(op));
        var cuda = Ops.Unary(op, x.To(Sim.Device), Scalar(op));
        Close.Tensors(cpu, cuda, what: op.ToString());
    }

    [Theory, MemberData(nameof(UnaryOps))]
    public void Unary_backward_matches_cpu(UnaryOp op)
    {
        var x = Input(op, 30 + (ulong)op);
        var y = Ops.Unary(op, x, Scalar(op));
        var dy = Sim.Rand(50 + (ulong)op, 3, 37);
        var dxCpu = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.UnaryBackward(op, x, y, dy, dxCpu, Scalar(op));
        var dxCuda = Ops.Empty(x.Shape, DType.F32, Sim.Device);
        Sim.Device.Backend.UnaryBackward(op, x.To(Sim.Device), y.To(Sim.Device), dy.To(Sim.Device), dxCuda, Scalar(op));
        Close.Tensors(dxCpu, dxCuda, what: op.ToString());
    }

    [Fact]
    public void Unary_reads_a_transposed_view()
    {
        var x = Uniform(3, -2f, 2f, 7, 5);
        var cpu = Ops.Unary(UnaryOp.GeluTanh, Ops.Transpose(x, 0, 1));
        var xt = Ops.Transpose(x.To(Sim.Device), 0, 1);
        Assert.False(xt.IsContiguous);
        var cuda = Ops.Empty(xt.Shape, DType.F32, Sim.Device);
        Sim.Device.Backend.Unary(UnaryOp.GeluTanh, xt, cuda);
        Close.Tensors(cpu, cuda);
    }

    [Theory]
    [InlineData(UnaryOp.GeluTanh)]
    [InlineData(UnaryOp.Silu)]
    [InlineData(UnaryOp.Exp)]
    [InlineData(UnaryOp.Scale)]
    public void Unary_bf16_in_and_out(UnaryOp op)
    {
        var x = Bf16(Input(op, 70 + (ulong)op));
        var expected = Ops.Unary(op, F32(x), Scalar(op));
        var cuda = Ops.Empty(x.Shape, DType.BF16, Sim.Device);
        Sim.Device.Backend.Unary(op, x.To(Sim.Device), cuda, Scalar(op));
        Bf16Close(expected, cuda, op.ToString());
        // backward with bf16 dy and dx
        var dy = Bf16(Sim.Rand(90, 3, 37));
        var dxExpected = Ops.Empty(x.Shape, DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.UnaryBackward(op, F32(x), expected, F32(dy), dxExpected, Scalar(op));
        var dx = Ops.Empty(x.Shape, DType.BF16, Sim.Device);
        Sim.Device.Backend.UnaryBackward(op, x.To(Sim.Device), expected.To(Sim.Device), dy.To(Sim.Device), dx, Scalar(op));
        Bf16Close(dxExpected, dx, op + " backward");
    }

    /// <summary>a: a transposed (5,7) view; b: (7) broadcast over rows, then (5,1) broadcast over columns.</summary>
    [Theory, MemberData(nameof(BinaryOps))]
    public void Binary_over_strided_and_broadcast_views_matches_cpu(BinaryOp op)
    {
        var a0 = Sim.Rand(100 + (ulong)op, 7, 5);
        var row = Ops.AddScalar(Sim.Rand(110 + (ulong)op, 7), op == BinaryOp.Div ? 4f : 0f);
        var col = Ops.AddScalar(Sim.Rand(120 + (ulong)op, 5, 1), op == BinaryOp.Div ? 4f : 0f);
        var shape = new Shape(5, 7);
        foreach (var b0 in new[] { row, col })
        {
            Tensor Run(Device d)
            {
                var a = Ops.Transpose(a0.To(d), 0, 1);
                var b = Ops.Expand(b0.To(d), shape);
                var y = Ops.Empty(shape, DType.F32, d);
                d.Backend.Binary(op, a, b, y);
                return y;
            }
            Close.Tensors(Run(Sim.Cpu), Run(Sim.Device), what: $"{op} with b {b0.Shape}");
        }
    }

    [Fact]
    public void Binary_max_min_follow_dotnet_on_nan_and_signed_zero()
    {
        float nan = float.NaN, inf = float.PositiveInfinity;
        float[] av = [nan, 1f, -0f, 0f, inf, -inf, 2f, nan, -0f, 3f];
        float[] bv = [1f, nan, 0f, -0f, -inf, 3f, 2f, nan, -0f, -5f];
        foreach (var op in new[] { BinaryOp.Max, BinaryOp.Min })
        {
            Tensor Run(Device d)
            {
                var y = Ops.Empty(new Shape(av.Length), DType.F32, d);
                d.Backend.Binary(op, Ops.FromArray(av, new Shape(av.Length), d), Ops.FromArray(bv, new Shape(bv.Length), d), y);
                return y;
            }
            Bits(Run(Sim.Cpu).ToArray<float>(), Run(Sim.Device).ToArray<float>(), op.ToString());
        }
        // Relu = max(x, 0): NaN stays NaN, −0 becomes +0
        float[] xv = [nan, -0f, 0f, -1f, 2f];
        var x = Ops.FromArray(xv, new Shape(xv.Length), Sim.Cpu);
        Bits(Ops.Relu(x).ToArray<float>(), Ops.Relu(x.To(Sim.Device)).ToArray<float>(), "relu");
    }

    [Fact]
    public void Binary_bf16_operands_and_output_over_odd_sizes()
    {
        var shape = new Shape(3, 11, 13);
        var a0 = Bf16(Sim.Rand(130, 3, 13, 11));
        var b0 = Sim.Rand(131, 11, 1);
        var expected = Ops.Empty(shape, DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.Binary(BinaryOp.Mul, Ops.Contiguous(Ops.Transpose(F32(a0), 1, 2)), Ops.Contiguous(Ops.Expand(b0, shape)), expected);
        var y = Ops.Empty(shape, DType.BF16, Sim.Device);
        Sim.Device.Backend.Binary(BinaryOp.Mul, Ops.Transpose(a0.To(Sim.Device), 1, 2), Ops.Expand(b0.To(Sim.Device), shape), y);
        Bf16Close(expected, y);
    }
}
