using VlmTune.Tensors.Cuda.Tests.Support;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class AllocatorFinalizerTests
{
    /// <summary>
    /// Tensors that are simply dropped come back through finalizers; ILGPU's buffers have finalizers too, and a block
    /// finalized together with its storage must not be handed out again as a dead buffer.
    /// </summary>
    [Fact]
    public void Blocks_of_dropped_tensors_are_reused_alive()
    {
        var dev = Sim.Device;
        for (int round = 0; round < 3; round++)
        {
            Drop(dev);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            var x = Ops.FromArray(Enumerable.Range(0, 777).Select(i => (float)i).ToArray(), new Shape(777), dev);
            Assert.Equal(776f, x.ToArray<float>()[776]);
        }
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static void Drop(Device dev)
    {
        for (int i = 0; i < 10; i++) _ = Ops.FromArray(new float[777], new Shape(777), dev);
    }
}
