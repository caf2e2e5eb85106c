using System.Diagnostics;
using System.Globalization;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Bench;

/// <summary>
/// The `attention` verb: the CPU attention kernel's forward and backward at SmolVLM-256M's shapes — the vision tower
/// (17 tiles × 12 heads × 1024 patches, head 64, no mask) and the text model (9 query / 3 kv heads, 1,160 tokens,
/// causal) — in GFLOP/s of the products they do (forward 4·T·S·D per head, halved when causal; backward 2.5× that:
/// the recomputed scores, dV, dP, dQ and dK), median of --reps.
/// </summary>
public static class AttentionBench
{
    public static int Run(int reps, int threads)
    {
        var device = new CpuBackend(threads).AsDevice();
        foreach (var (name, b, h, hkv, t, causal) in new[] { ("vision", 17, 12, 12, 1024, false), ("text", 1, 9, 3, 1160, true) })
        {
            const int d = 64;
            var q = Ops.RandomNormal(new Shape(b, h, t, d), 1, device);
            var k = Ops.RandomNormal(new Shape(b, hkv, t, d), 2, device);
            var v = Ops.RandomNormal(new Shape(b, hkv, t, d), 3, device);
            var dO = Ops.RandomNormal(new Shape(b, h, t, d), 4, device);
            var o = Ops.Empty(q.Shape, DType.F32, device);
            var lse = Ops.Empty(new Shape(b, h, t), DType.F32, device);
            var (dq, dk, dv) = (Ops.Empty(q.Shape, DType.F32, device), Ops.Empty(k.Shape, DType.F32, device), Ops.Empty(v.Shape, DType.F32, device));
            var p = new AttentionParams(1f / MathF.Sqrt(d), causal, 0);
            double flops = 4.0 * b * h * t * t * d * (causal ? 0.5 : 1.0);
            double Time(Action run)
            {
                run();
                var times = new double[reps];
                for (int r = 0; r < reps; r++)
                {
                    var sw = Stopwatch.StartNew();
                    run();
                    times[r] = sw.Elapsed.TotalSeconds;
                }
                Array.Sort(times);
                return times[reps / 2];
            }
            double fwd = Time(() => device.Backend.Attention(q, k, v, null, p, o, lse));
            double bwd = Time(() => device.Backend.AttentionBackward(q, k, v, null, p, o, lse, dO, dq, dk, dv));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"attention {name} B={b} H={h}/{hkv} T={t} D={d} causal={causal} threads={threads} " +
                $"forward_ms={fwd * 1e3:F1} forward_gflops={flops / fwd / 1e9:F1} backward_ms={bwd * 1e3:F1} backward_gflops={2.5 * flops / bwd / 1e9:F1}"));
        }
        return 0;
    }
}
