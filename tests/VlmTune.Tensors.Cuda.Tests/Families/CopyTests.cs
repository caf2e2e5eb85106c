using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class CopyTests
{
    [Fact]
    public void Round_trip_and_fill()
    {
        var x = Sim.Rand(1, 3, 5);
        var d = x.To(Sim.Device);
        Assert.Equal(x.ToArray<float>(), d.ToArray<float>());
        var f = VlmTune.Tensors.Ops.Full(new Shape(7), 2.5f, Sim.Device);
        Assert.All(f.ToArray<float>(), v => Assert.Equal(2.5f, v));
    }

    [Theory]
    [InlineData(DType.F32, DType.BF16)]
    [InlineData(DType.BF16, DType.F32)]
    [InlineData(DType.F32, DType.F16)]
    [InlineData(DType.F32, DType.F32)]
    public void Strided_converting_copy_matches_cpu(DType from, DType to)
    {
        var x = VlmTune.Tensors.Ops.ToDType(Sim.Rand(2, 4, 6, 5), from);
        // a transposed, narrowed view: strides that are not row-major
        Tensor View(Tensor t) => VlmTune.Tensors.Ops.Narrow(VlmTune.Tensors.Ops.Transpose(t, 0, 2), 1, 1, 4);
        var cpu = VlmTune.Tensors.Ops.ToDType(View(x), to);
        var cuda = VlmTune.Tensors.Ops.ToDType(View(x.To(Sim.Device)), to);
        Close.Tensors(cpu, cuda, 0, 0);
    }

    [Fact]
    public void Integer_copy_is_exact()
    {
        long[] ids = [1L << 40, -3, 7, 123456789012];
        var x = VlmTune.Tensors.Ops.FromArray(ids, new Shape(4), Sim.Device);
        var y = VlmTune.Tensors.Ops.Contiguous(VlmTune.Tensors.Ops.Narrow(x, 0, 1, 3));
        Assert.Equal(ids[1..], y.ToArray<long>());
    }
}
