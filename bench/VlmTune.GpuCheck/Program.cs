namespace VlmTune.GpuCheck;

/// <summary>
/// The GPU machine's single executable, published by bench/gpu/bundle.sh under the name <c>vlmtune</c>:
/// <list type="bullet">
/// <item><c>vlmtune gpucheck [options]</c>: the CUDA backend's parity tests, in-process (<see cref="GpuCheckCommand"/>);</item>
/// <item><c>vlmtune ptx --out DIR</c>: every catalogued kernel compiled to PTX (to compare a trimmed build with an
/// untrimmed one; <see cref="PtxDump"/>);</item>
/// <item><c>bench-data</c>, <c>bench-tokenizer</c>, <c>sft-batch</c>, <c>compare</c>: helpers of bench/gpu/run.sh
/// (<see cref="BenchVerbs"/>);</item>
/// <item>anything else: exactly <c>vlmtune</c> (src/VlmTune.Cli's <c>Program.Main</c>).</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        switch (args.Length > 0 ? args[0] : "")
        {
            case "gpucheck": return GpuCheckCommand.Run(args[1..]);
            case "ptx": return PtxDump.Run(args[1..]);
            case "bench-data": return BenchVerbs.Guard(BenchVerbs.BenchData, args[1..]);
            case "bench-tokenizer": return BenchVerbs.Guard(BenchVerbs.BenchTokenizer, args[1..]);
            case "sft-batch": return BenchVerbs.Guard(BenchVerbs.SftBatch, args[1..]);
            case "compare": return BenchVerbs.Guard(BenchVerbs.Compare, args[1..]);
            default: return VlmTune.Cli.Program.Main(args);
        }
    }
}
