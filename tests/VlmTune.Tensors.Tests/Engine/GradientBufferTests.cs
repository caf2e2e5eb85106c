using VlmTune.Tensors.Cpu;

namespace VlmTune.Tensors.Tests.Engine;

// The backward walk disposes activation gradients once spent and the CPU backend reuses their buffers: leaves'
// gradients stay intact, the caller's gradOutput is never freed, gradients that are views of one another survive
// until their last user, and a second backward on the same shapes takes its buffers from the pool.
public sealed class GradientBufferTests
{
    [Fact]
    public void Spent_gradients_go_back_to_the_pool_and_the_results_do_not_change()
    {
        var backend = new CpuBackend(2);
        var device = backend.AsDevice();
        const int rows = 64, cols = 512;                                   // 128 KiB activations: pooled sizes
        var w = Ops.RandomNormal(new Shape(cols, cols), 3, device, 0f, 0.05f).RequireGrad();
        var w2 = Ops.RandomNormal(new Shape(cols, cols / 2), 7, device, 0f, 0.05f).RequireGrad();
        var x = Ops.RandomNormal(new Shape(rows, cols), 4, device);

        float[] Run()
        {
            w.Grad = null;
            w2.Grad = null;
            var h = Ops.Linear(x, w);
            var a = Ops.Mul(Ops.Silu(h), h);                                // two paths meet: a summed gradient
            var parts = Ops.Reshape(a, rows, 2, cols / 2);                  // views of one gradient
            var y = Ops.Add(Ops.Narrow(parts, 1, 0, 1), Ops.Narrow(parts, 1, 1, 1));
            var loss = Ops.Mean(Ops.Square(Ops.Linear(Ops.Reshape(y, rows, cols / 2), w2)));
            loss.Backward();
            return [.. w.Grad!.ToArray<float>(), .. w2.Grad!.ToArray<float>()];
        }

        var first = Run();
        long pooled = backend.PooledBytes;
        Assert.True(pooled > 0, "spent activation gradients should be pooled");
        var second = Run();
        Assert.Equal(first, second);                                       // bit-identical with reused buffers
        Assert.True(backend.PooledBytes <= pooled, $"the second walk should reuse buffers ({backend.PooledBytes} > {pooled})");
    }

    [Fact]
    public void The_callers_gradient_output_is_never_freed()
    {
        var device = new CpuBackend(1).AsDevice();
        var w = Ops.RandomNormal(new Shape(256, 256), 5, device).RequireGrad();
        var y = Ops.Reshape(Ops.Scale(w, 2f), 256 * 256);
        var dy = Ops.RandomNormal(new Shape(256 * 256), 6, device);
        y.Backward(dy);
        var expected = dy.ToArray<float>().Select(v => 2f * v).ToArray();
        Assert.Equal(expected, w.Grad!.ToArray<float>());
        Assert.Equal(256 * 256, dy.ToArray<float>().Length);               // still readable
    }
}
