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

    /// <summary>
    /// Host arrays live on the managed heap and move when a collection compacts it. ILGPU's CopyToCPU / CopyFromCPU take
    /// the host memory as a raw address (Unsafe.AsPointer, no pinning), so the backend pins it for the copy: unpinned, a
    /// collection between taking the address and the copy sent the data to the array's old place (the array came back
    /// zero from element 0, and the heap was overwritten: the test host crashed). A second thread forces compacting
    /// collections (managed memory only, never the accelerator) while this one round-trips fresh arrays for 3 s.
    /// Unpinned, 6 of 6 runs failed (2 to 27 corrupted arrays, or a crashed host); pinned, the data cannot move.
    /// </summary>
    [Fact]
    public void Host_copies_survive_compacting_collections()
    {
        const int N = 1024;
        int stop = 0, collections = 0;
        var collector = new Thread(() =>
        {
            while (Volatile.Read(ref stop) == 0)
            {
                GC.Collect(0, GCCollectionMode.Forced, blocking: true, compacting: true);
                collections++;
                Thread.Yield();
            }
        }) { IsBackground = true };
        int bad = 0, rounds = 0;
        string first = "";
        var clock = System.Diagnostics.Stopwatch.StartNew();
        collector.Start();
        try
        {
            for (; clock.Elapsed.TotalSeconds < 3; rounds++)
            {
                var data = new float[N];
                for (int i = 0; i < N; i++) data[i] = rounds * N + i + 1;
                var back = VlmTune.Tensors.Ops.FromArray(data, new Shape(N), Sim.Device).ToArray<float>();
                int at = 0;
                while (at < N && back[at] == data[at]) at++;
                if (at == N) continue;
                if (bad++ == 0) first = $"round {rounds}: element {at} is {back[at]}, expected {data[at]}";
            }
        }
        finally
        {
            Volatile.Write(ref stop, 1);
            collector.Join();
        }
        Assert.True(bad == 0, $"{bad} of {rounds} round trips corrupted ({collections} collections); first: {first}");
    }
}
