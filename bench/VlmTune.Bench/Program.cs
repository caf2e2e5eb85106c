namespace VlmTune.Bench;

/// <summary>Benchmarks: `dotnet run -c Release --project bench/VlmTune.Bench -- (gemm | train-step)`.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "train-step")
            return TrainStepBench.Run(Arg(args, "--seq", 1024), Arg(args, "--steps", 5), Arg(args, "--threads", Environment.ProcessorCount));
        Console.Error.WriteLine("usage: VlmTune.Bench (gemm | train-step [--seq N] [--steps N] [--threads N])");
        return 2;
    }

    static int Arg(string[] args, string name, int fallback)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1]) : fallback;
    }
}
