namespace VlmTune.Bench;

/// <summary>Options of the `gemm` verb: --threads (default: processor count), --reps (default 7).</summary>
public sealed record GemmBenchmarkOptions(int Threads, int Reps)
{
    public static GemmBenchmarkOptions Parse(ReadOnlySpan<string> args)
    {
        int threads = Environment.ProcessorCount;
        int reps = 7;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads":
                    threads = PositiveInt(args, ++i, "--threads");
                    break;
                case "--reps":
                    reps = PositiveInt(args, ++i, "--reps");
                    break;
                default:
                    throw new BenchUsageException($"gemm: unknown option '{args[i]}'");
            }
        }
        return new GemmBenchmarkOptions(threads, reps);
    }

    private static int PositiveInt(ReadOnlySpan<string> args, int index, string option)
    {
        if (index >= args.Length) throw new BenchUsageException($"gemm: {option} needs a value");
        if (!int.TryParse(args[index], out int value) || value < 1)
            throw new BenchUsageException($"gemm: {option} must be a positive integer, got '{args[index]}'");
        return value;
    }
}
