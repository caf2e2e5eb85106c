namespace VlmTune.Bench;

/// <summary>Benchmarks: `dotnet run -c Release --project bench/VlmTune.Bench -- (gemm | train-step) [options]`.</summary>
public static class Program
{
    private const string Usage =
        "usage: VlmTune.Bench gemm [--threads N] [--reps N]     (M = 2048; OpenBLAS as installed and with its own core detection)\n" +
        "       VlmTune.Bench gemv [--threads N] [--reps N]     (M = 1, 4, 8; against sgemv / sgemm, both OpenBLAS configurations)\n" +
        "       VlmTune.Bench train-step [--seq N] [--steps N] [--threads N]\n" +
        "       VlmTune.Bench decode --model DIR [--prompt N] [--new N] [--rounds N] [--threads N] [--dump FILE]\n" +
        "       VlmTune.Bench dequant [--reps N]                (4-bit dequantise: the reference loop against the fast path)\n" +
        "       VlmTune.Bench attention [--reps N] [--threads N] (forward / backward GFLOP/s at the 256M vision and text shapes)\n" +
        "       VlmTune.Bench image --image FILE [--reps N]\n" +
        "       VlmTune.Bench learn-data --out DIR [--task quadrant|grid|bars|sizes] [--seed N] [--train N] [--eval N] [--pairs N]";

    public static int Main(string[] args)
    {
        if (args.Length == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        try
        {
            return args[0] switch
            {
                "gemm" => GemmBenchmark.Run(GemmBenchmarkOptions.Parse(args.AsSpan(1), smallM: false)),
                "gemv" => GemmBenchmark.Run(GemmBenchmarkOptions.Parse(args.AsSpan(1), smallM: true)),
                "decode" => DecodeBench.Run(StringArg(args, "--model"), Arg(args, "--prompt", 1024), Arg(args, "--new", 32),
                    Arg(args, "--rounds", 1), Arg(args, "--threads", Environment.ProcessorCount), OptionalStringArg(args, "--dump")),
                "dequant" => DequantBench.Run(Arg(args, "--reps", 5)),
                "attention" => AttentionBench.Run(Arg(args, "--reps", 5), Arg(args, "--threads", Environment.ProcessorCount)),
                "image" => ImageBench.Run(StringArg(args, "--image"), Arg(args, "--reps", 21)),
                "train-step" => TrainStepBench.Run(Arg(args, "--seq", 1024), Arg(args, "--steps", 5), Arg(args, "--threads", Environment.ProcessorCount)),
                "learn-data" => LearnData(args),
                _ => UnknownVerb(args[0]),
            };
        }
        catch (BenchUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
    }

    /// <summary>Writes the learning benchmark's tasks (all, or --task NAME) under --out, one folder each.</summary>
    private static int LearnData(string[] args)
    {
        string outDir = StringArg(args, "--out");
        int i = Array.IndexOf(args, "--task");
        var tasks = i >= 0 && i + 1 < args.Length ? [args[i + 1]] : VlmTune.Training.Demo.LearningTasks.Names;
        foreach (var task in tasks)
        {
            try
            {
                Console.WriteLine(VlmTune.Training.Demo.LearningTasks.Write(task, Path.Combine(outDir, task), (ulong)Arg(args, "--seed", 1),
                    Arg(args, "--train", 1200), Arg(args, "--eval", 200), Arg(args, "--pairs", 600)));
            }
            catch (ArgumentException e) { throw new BenchUsageException(e.Message); }   // an unknown --task
        }
        return 0;
    }

    private static string StringArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{name} is required");
    }

    private static string? OptionalStringArg(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return null;
        return i + 1 < args.Length ? args[i + 1] : throw new BenchUsageException($"{name} needs a value");
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return fallback;
        if (i + 1 >= args.Length || !int.TryParse(args[i + 1], out int v) || v <= 0)
            throw new BenchUsageException($"{name} needs a positive integer");
        return v;
    }

    private static int UnknownVerb(string verb)
    {
        Console.Error.WriteLine($"error: unknown verb '{verb}'");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
