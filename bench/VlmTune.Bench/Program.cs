namespace VlmTune.Bench;

/// <summary>Benchmarks: `dotnet run -c Release --project bench/VlmTune.Bench -- (gemm | train-step) [options]`.</summary>
public static class Program
{
    private const string Usage =
        "usage: VlmTune.Bench gemm [--threads N] [--reps N]\n" +
        "       VlmTune.Bench train-step";

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
                "gemm" => GemmBenchmark.Run(GemmBenchmarkOptions.Parse(args.AsSpan(1))),
                "train-step" => TrainStepNotYet(),
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

    // Placeholder: the lead engineer replaces this with the train-step benchmark.
    private static int TrainStepNotYet()
    {
        Console.WriteLine("not yet");
        return 2;
    }

    private static int UnknownVerb(string verb)
    {
        Console.Error.WriteLine($"error: unknown verb '{verb}'");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
