using System.CommandLine;
using System.Diagnostics;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;
using VlmTune.Tensors.Optim;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune selfcheck`: exercises the tensor engine on the CPU backend — a tiny attention + SwiGLU model learns a
/// seeded synthetic task with AdamW and gradient clipping — and fails unless the loss drops by 10×.
/// </summary>
public static class SelfCheckCommand
{
    public static Command Create()
    {
        var steps = new Option<int>("--steps") { Description = "Training steps.", DefaultValueFactory = _ => 200 };
        var seed = new Option<int>("--seed") { Description = "Random seed.", DefaultValueFactory = _ => 1 };
        var command = new Command("selfcheck", "Run the tensor engine's self-check: a tiny model trained on the CPU backend.");
        command.Options.Add(steps);
        command.Options.Add(seed);
        command.SetAction(r => Run(r.GetValue(steps), (ulong)r.GetValue(seed)));
        return command;
    }

    static int Run(int steps, ulong seed)
    {
        var cpu = CpuBackend.Device;
        const int t = 16, d = 32, heads = 4, hd = 8;
        Tensor P(ulong s, params int[] shape) => Ops.RandomNormal(new Shape(shape), seed * 1000 + s, cpu, 0f, 0.2f).RequireGrad();
        var (wq, wk, wv, wo, w1, w2, w3) = (P(1, d, d), P(2, d, d), P(3, d, d), P(4, d, d), P(5, 64, d), P(6, 64, d), P(7, d, 64));
        var norm = Ops.Full(new Shape(d), 1f, cpu).RequireGrad();
        var parameters = new[] { wq, wk, wv, wo, w1, w2, w3, norm };
        var opt = new AdamW(parameters, lr: 3e-3f, weightDecay: 0.01f);
        // Task: predict the running mean of the input sequence (needs causal attention).
        var x = Ops.RandomNormal(new Shape(8, t, d), seed, cpu);
        var target = Ops.Div(CumSum(x, t), Ops.FromArray(Enumerable.Range(1, t).Select(i => (float)i).ToArray(), new Shape(t, 1), cpu));
        var positions = Ops.FromArray(Enumerable.Range(0, t).ToArray(), new Shape(t), cpu);

        Tensor Heads(Tensor y) => Ops.Transpose(Ops.Reshape(y, 8, t, heads, hd), 1, 2);
        float first = 0, last = 0;
        var sw = Stopwatch.StartNew();
        for (int step = 1; step <= steps; step++)
        {
            var h = Ops.RmsNorm(x, norm, 1e-5f);
            var a = Ops.Attention(Ops.Rope(Heads(Ops.Linear(h, wq)), positions, 1e4f), Ops.Rope(Heads(Ops.Linear(h, wk)), positions, 1e4f), Heads(Ops.Linear(h, wv)), causal: true);
            var y = Ops.Linear(Ops.Reshape(Ops.Transpose(a, 1, 2), 8, t, d), wo);
            y = Ops.Add(y, Ops.Linear(Ops.SwiGlu(Ops.Linear(y, w1), Ops.Linear(y, w2)), w3));
            var loss = Ops.Mean(Ops.Square(Ops.Sub(y, target)));
            opt.ZeroGrad();
            loss.Backward();
            GradClip.ClipByGlobalNorm(parameters, 1f);
            opt.StepOnce();
            float value = loss.Item();
            if (step == 1) first = value;
            last = value;
            if (step == 1 || step % 50 == 0) Console.WriteLine($"step {step,4}  loss {value:F5}");
        }
        bool ok = last < first / 10;
        Console.WriteLine($"selfcheck: {(ok ? "ok" : "FAILED")} — loss {first:F4} → {last:F4} in {steps} steps, {sw.Elapsed.TotalSeconds:F1} s on {cpu.Backend.Name}");
        return ok ? 0 : 1;
    }

    static Tensor CumSum(Tensor x, int t)
    {
        // cumsum over positions = (xᵀ · U)ᵀ with U upper-triangular ones.
        var upper = new float[t * t];
        for (int i = 0; i < t; i++) for (int j = i; j < t; j++) upper[i * t + j] = 1f;
        return Ops.Transpose(Ops.MatMul(Ops.Transpose(x, 1, 2), Ops.FromArray(upper, new Shape(t, t), x.Device)), 1, 2);
    }
}
