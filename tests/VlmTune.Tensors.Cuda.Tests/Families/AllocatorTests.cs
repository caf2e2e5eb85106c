using VlmTune.Tensors.Cuda.Tests.Support;
using O = VlmTune.Tensors.Ops;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class AllocatorTests
{
    /// <summary>
    /// Regression: a dropped tensor's storage and its ILGPU buffer were finalized together; the storage put the
    /// block back in the cache while the buffer's own finalizer freed it, and the next tensor of that size got freed
    /// memory (a NullReferenceException in the copy on the simulator; a use-after-free on a GPU).
    /// </summary>
    [Fact]
    public void Blocks_of_dropped_tensors_survive_collection()
    {
        for (int it = 0; it < 30; it++)
        {
            var host = Sim.Rand((ulong)it, 3, 7, 5);
            var d = host.To(Sim.Device); // dropped at once: its finalizer returns the block
            Assert.Equal(host.ToArray<float>(), d.ToArray<float>());
            if (it % 5 == 0)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
        }
        var z = O.Zeros(new Shape(3, 7, 5), DType.F32, Sim.Device);
        Assert.All(z.ToArray<float>(), v => Assert.Equal(0f, v));
    }
}
