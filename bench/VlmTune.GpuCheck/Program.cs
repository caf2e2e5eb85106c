namespace VlmTune.GpuCheck;

/// <summary>
/// The GPU machine's single executable, published by bench/gpu/bundle.sh under the name <c>vlmtune</c>:
/// <list type="bullet">
/// <item><c>vlmtune gpucheck [options]</c>: the CUDA backend's parity tests, in-process (<see cref="GpuCheckCommand"/>);</item>
/// <item><c>vlmtune ptx --out DIR</c>: every catalogued kernel compiled to PTX (to compare a trimmed build with an
/// untrimmed one; <see cref="PtxDump"/>);</item>
/// <item>anything else: exactly <c>vlmtune</c> (src/VlmTune.Cli's <c>Program.Main</c>).</item>
/// </list>
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "gpucheck") return GpuCheckCommand.Run(args[1..]);
        if (args.Length > 0 && args[0] == "ptx") return PtxDump.Run(args[1..]);
        return VlmTune.Cli.Program.Main(args);
    }
}
