using System.Diagnostics;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Bench;

/// <summary>
/// One training step (forward + backward, every weight trainable, f32) of a 2-layer Llama block with SmolVLM-256M's
/// text shapes: d = 576, 9 query heads / 3 kv heads of 64, SwiGLU 1536, RoPE θ = 1e5, RMSNorm eps 1e-5, causal.
/// The same model in PyTorch: bench/torch_train_step.py. Prints tokens/s (median of the timed steps).
/// </summary>
public static class TrainStepBench
{
    const int D = 576, Heads = 9, KvHeads = 3, HeadDim = 64, Ffn = 1536, Layers = 2;

    public static int Run(int seq, int steps, int threads)
    {
        var device = new CpuBackend(threads).AsDevice();
        var layers = Enumerable.Range(0, Layers).Select(l => new Layer(device, (ulong)(100 * l))).ToArray();
        var x0 = Ops.RandomNormal(new Shape(1, seq, D), 7, device);
        var positions = Ops.FromArray(Enumerable.Range(0, seq).ToArray(), new Shape(seq), device);

        double Step()
        {
            var sw = Stopwatch.StartNew();
            var x = x0;
            foreach (var l in layers) x = l.Forward(x, positions, seq);
            var loss = Ops.Mean(Ops.Square(x));
            loss.Backward();
            foreach (var l in layers) l.ZeroGrad();
            return sw.Elapsed.TotalSeconds;
        }

        for (int i = 0; i < 2; i++) Step(); // warm-up (JIT tiers, buffers)
        var times = Enumerable.Range(0, steps).Select(_ => Step()).OrderBy(t => t).ToArray();
        double median = times[times.Length / 2];
        Console.WriteLine($"train-step layers={Layers} d={D} heads={Heads}/{KvHeads} seq={seq} threads={threads} " +
            $"step_ms={median * 1000:F1} tokens_per_s={seq / median:F0}");
        return 0;
    }

    sealed class Layer
    {
        readonly Tensor _ln1, _wq, _wk, _wv, _wo, _ln2, _wg, _wu, _wd;

        public Layer(Device device, ulong seed)
        {
            Tensor W(int o, int i, ulong s) => Ops.RandomNormal(new Shape(o, i), seed + s, device, 0f, 0.02f).RequireGrad();
            _ln1 = Ops.Full(new Shape(D), 1f, device).RequireGrad();
            _ln2 = Ops.Full(new Shape(D), 1f, device).RequireGrad();
            _wq = W(D, D, 1); _wk = W(KvHeads * HeadDim, D, 2); _wv = W(KvHeads * HeadDim, D, 3); _wo = W(D, D, 4);
            _wg = W(Ffn, D, 5); _wu = W(Ffn, D, 6); _wd = W(D, Ffn, 7);
        }

        public Tensor Forward(Tensor x, Tensor positions, int t)
        {
            var h = Ops.RmsNorm(x, _ln1, 1e-5f);
            var q = Ops.Rope(Heads4(Ops.Linear(h, _wq), t, Heads), positions, 1e5f);
            var k = Ops.Rope(Heads4(Ops.Linear(h, _wk), t, KvHeads), positions, 1e5f);
            var v = Heads4(Ops.Linear(h, _wv), t, KvHeads);
            var a = Ops.Reshape(Ops.Transpose(Ops.Attention(q, k, v, causal: true), 1, 2), 1, t, D);
            x = Ops.Add(x, Ops.Linear(a, _wo));
            h = Ops.RmsNorm(x, _ln2, 1e-5f);
            return Ops.Add(x, Ops.Linear(Ops.SwiGlu(Ops.Linear(h, _wg), Ops.Linear(h, _wu)), _wd));
        }

        static Tensor Heads4(Tensor y, int t, int heads) => Ops.Transpose(Ops.Reshape(y, 1, t, heads, HeadDim), 1, 2);

        public void ZeroGrad()
        {
            foreach (var p in new[] { _ln1, _wq, _wk, _wv, _wo, _ln2, _wg, _wu, _wd }) p.Grad = null;
        }
    }
}
