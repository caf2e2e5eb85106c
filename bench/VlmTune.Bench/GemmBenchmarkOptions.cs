namespace VlmTune.Bench;

/// <summary>
/// Options of the `gemm` and `gemv` verbs: --threads (default: processor count), --reps (default 7). --config names
/// the OpenBLAS configuration this process measures: "installed" (the environment as given, the default) or "native"
/// (run as a child with OpenBLAS's override variables removed; the parent starts it, users need not).
/// </summary>
public sealed record GemmBenchmarkOptions(int Threads, int Reps, bool SmallM, string Config)
{
    public const string Installed = "installed", Native = "native";

    public static GemmBenchmarkOptions Parse(ReadOnlySpan<string> args, bool smallM)
    {
        string verb = smallM ? "gemv" : "gemm";
        int threads = Environment.ProcessorCount;
        int reps = 7;
        string config = Installed;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads":
                    threads = PositiveInt(args, ++i, "--threads", verb);
                    break;
                case "--reps":
                    reps = PositiveInt(args, ++i, "--reps", verb);
                    break;
                case "--config":
                    if (++i >= args.Length || args[i] is not (Installed or Native))
                        throw new BenchUsageException($"{verb}: --config must be '{Installed}' or '{Native}'");
                    config = args[i];
                    break;
                default:
                    throw new BenchUsageException($"{verb}: unknown option '{args[i]}'");
            }
        }
        return new GemmBenchmarkOptions(threads, reps, smallM, config);
    }

    private static int PositiveInt(ReadOnlySpan<string> args, int index, string option, string verb)
    {
        if (index >= args.Length) throw new BenchUsageException($"{verb}: {option} needs a value");
        if (!int.TryParse(args[index], out int value) || value < 1)
            throw new BenchUsageException($"{verb}: {option} must be a positive integer, got '{args[index]}'");
        return value;
    }
}
