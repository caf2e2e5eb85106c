using VlmTune.Tensors.Cuda.Tests.Support;
using static VlmTune.Tensors.Cuda.Tests.Families.Parity;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class IndexingTests
{
    static Tensor Ids(int seed, int high, DType dtype, params int[] shape)
    {
        var rng = new Random(seed);
        var v = new long[new Shape(shape).Numel];
        for (int i = 0; i < v.Length; i++) v[i] = rng.Next(high);
        return Ops.ToDType(Ops.FromArray(v, new Shape(shape), Sim.Cpu), dtype);
    }

    [Theory]
    [InlineData(DType.I32, DType.F32)]
    [InlineData(DType.I64, DType.BF16)]
    [InlineData(DType.I64, DType.F16)]
    public void Embedding_rows_equal_cpu(DType idType, DType weightType)
    {
        var ids = Ids(1, 50, idType, 3, 7);
        var w = Ops.ToDType(Sim.Rand(2, 50, 13), weightType);
        var cpu = Ops.Embedding(ids, w);
        var cuda = Ops.Embedding(ids.To(Sim.Device), w.To(Sim.Device));
        Assert.Equal(new Shape(3, 7, 13), cuda.Shape);
        Bits(cpu.ToArray<float>(), cuda.ToArray<float>());
        // into a bf16 output
        var yb = Ops.Empty(new Shape(3, 7, 13), DType.BF16, Sim.Device);
        Sim.Device.Backend.Embedding(ids.To(Sim.Device), w.To(Sim.Device), yb);
        Bits(Bf16(cpu).ToFloatArray(), yb.ToFloatArray(), "bf16 out");
    }

    [Fact]
    public void Embedding_of_an_id_outside_the_vocabulary_is_nan()
    {
        var ids = Ops.FromArray(new long[] { 2, 50, -1, 0 }, new Shape(4), Sim.Device);
        var y = Ops.Embedding(ids, Sim.Rand(3, 50, 5).To(Sim.Device)).ToArray<float>();
        Assert.All(y[5..15], v => Assert.True(float.IsNaN(v)));
        Assert.All(y[..5].Concat(y[15..]), v => Assert.False(float.IsNaN(v)));
    }

    /// <summary>
    /// Repeated ids, dw accumulated onto non-zero values: the CPU's sums, bit for bit. Warp 4: 61 rows, 9 distinct ids
    /// (the scans span several group-wide chunks), 11 columns (more than a group of 8). Warp 32 (its barriers are
    /// slow in simulation): 13 rows, 4 distinct ids, 70 columns (more than a group of 64).
    /// </summary>
    [Theory]
    [InlineData(DType.I32, false)]
    [InlineData(DType.I64, false)]
    [InlineData(DType.I64, true)]
    public void Embedding_backward_accumulates_like_cpu(DType idType, bool wide)
    {
        var (d, n, v, c) = wide ? (Sim.Wide, 13, 4, 70) : (Sim.Device, 61, 9, 11);
        var ids = Ids(4, v, idType, n);
        var dy = Sim.Rand(5, n, c);
        var dw0 = Sim.Rand(6, v + 3, c);
        var cpu = Ops.Contiguous(Ops.Scale(dw0, 1f));
        Sim.Cpu.Backend.EmbeddingBackward(ids, dy, cpu);
        var dw = dw0.To(d);
        d.Backend.EmbeddingBackward(ids.To(d), dy.To(d), dw);
        Bits(cpu.ToArray<float>(), dw.ToArray<float>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public void Gather_and_scatter_add_match_cpu_on_every_axis(int axis)
    {
        var x = Sim.Rand(7, 4, 9, 5);
        int[] ishape = [3, 6, 5];
        ishape[axis] = axis == 1 ? 8 : 7; // longer than x's extent on the gathered axis: indices repeat
        var index = Ids(8 + axis, x.Shape.Dims[axis], DType.I64, ishape);
        var cpu = Ops.Gather(x, axis, index);
        var cuda = Ops.Gather(x.To(Sim.Device), axis, index.To(Sim.Device));
        Bits(cpu.ToArray<float>(), cuda.ToArray<float>(), "gather");

        var dy = Sim.Rand(9, ishape);
        var dxCpu = Ops.Contiguous(Ops.Scale(Sim.Rand(10, 4, 9, 5), 1f));
        var dxCuda = dxCpu.To(Sim.Device);
        Sim.Cpu.Backend.ScatterAdd(dy, axis, index, dxCpu);
        Sim.Device.Backend.ScatterAdd(dy.To(Sim.Device), axis, index.To(Sim.Device), dxCuda);
        Bits(dxCpu.ToArray<float>(), dxCuda.ToArray<float>(), "scatter add");
    }

    [Fact]
    public void Gather_reads_a_strided_x_bf16_values_and_an_i32_index()
    {
        var x = Sim.Rand(11, 5, 4, 9);
        var index = Ids(12, 9, DType.I32, 4, 3, 2);
        var cpu = Ops.Gather(Ops.Permute(x, 1, 0, 2), 2, index); // Ops makes the CPU's copy contiguous
        var view = Ops.Permute(x.To(Sim.Device), 1, 0, 2);
        var y = Ops.Empty(index.Shape, DType.F32, Sim.Device);
        Sim.Device.Backend.Gather(view, 2, index.To(Sim.Device), y);
        Bits(cpu.ToArray<float>(), y.ToArray<float>());
        // bf16 x into a bf16 y: exact (a bf16 value survives widening and rounding)
        var xb = Bf16(x);
        var yb = Ops.Empty(index.Shape, DType.BF16, Sim.Device);
        Sim.Device.Backend.Gather(Ops.Permute(xb.To(Sim.Device), 1, 0, 2), 2, index.To(Sim.Device), yb);
        Bits(Ops.Gather(Ops.Permute(F32(xb), 1, 0, 2), 2, index).ToArray<float>(), yb.ToFloatArray(), "bf16");
    }
}
