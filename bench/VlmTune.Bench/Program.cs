namespace VlmTune.Bench;

/// <summary>Benchmarks: `dotnet run -c Release --project bench/VlmTune.Bench -- (gemm | train-step)`.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("usage: VlmTune.Bench (gemm | train-step)");
        return 2;
    }
}
