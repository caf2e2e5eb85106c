using System.Reflection;
using VlmTune.Tensors.Cuda.Kernels;
using Xunit.Abstractions;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>
/// The PTX gate: every <see cref="GpuKernelAttribute"/> kernel of the CUDA backend compiles to PTX with ILGPU's PTX
/// backend (no GPU needed) and assembles for sm_90 with NVIDIA's ptxas; NoSpill kernels must not spill. Prints the
/// resource table and writes it to artifacts/ptx-gate.txt (or <c>$VLMTUNE_PTX_REPORT</c>).
/// </summary>
public class PtxGateTests(ITestOutputHelper output)
{
    // ILGPU 1.5.3 refuses LongIndex1D/2D/3D for implicitly grouped kernels ("long indices are not supported").
    static readonly string[] IndexTypes = ["Index1D", "Index2D", "Index3D"];

    static string Pretty(Type t) => t.IsGenericType
        ? $"{t.Name[..t.Name.IndexOf('`', StringComparison.Ordinal)]}<{string.Join(", ", t.GetGenericArguments().Select(Pretty))}>"
        : t.Name;

    static bool IsIndex(Type t) => t.Namespace == "ILGPU" && IndexTypes.Contains(t.Name);

    static string ReportPath => Environment.GetEnvironmentVariable("VLMTUNE_PTX_REPORT") is { Length: > 0 } p
        ? Path.GetFullPath(p, PtxTools.RepoRoot) : Path.Combine(PtxTools.RepoRoot, "artifacts", "ptx-gate.txt");

    [Fact]
    public void Every_kernel_assembles_for_sm90_and_NoSpill_kernels_do_not_spill()
    {
        var kernels = KernelCatalog.All();
        Assert.True(kernels.Count > 0, "PTX gate: KernelCatalog.All() is empty: no [GpuKernel] method was found, so nothing was checked");
        var ptxas = PtxTools.Ptxas; // throws with the fetch script's output when the tools cannot be fetched
        var work = Path.Combine(PtxTools.RepoRoot, "artifacts", "ptx-gate");
        var run = PtxGate.Run(kernels, work, ptxas);
        var failures = run.Failures().ToList();
        failures.AddRange(CheckSass(run));

        var table = PtxGate.Table(run, PtxTools.PtxasVersion);
        output.WriteLine(table);
        Directory.CreateDirectory(Path.GetDirectoryName(ReportPath)!);
        File.WriteAllText(ReportPath, table);
        output.WriteLine($"table written to {ReportPath}; PTX and cubins in {work}");
        Assert.True(failures.Count == 0,
            $"PTX gate: {failures.Count} failure(s):\n\n{string.Join("\n\n", failures)}\n\n{table}");
    }

    /// <summary>
    /// Disassembles one kernel (the one with the shortest PTX: cuobjdump takes about a second per kernel's SASS) from
    /// its cubin: ptxas really produced sm_90 machine code.
    /// </summary>
    static IEnumerable<string> CheckSass(PtxGateRun run)
    {
        var sample = run.Rows.Where(r => r.Entry != null).MinBy(r => r.Ptx!.Length);
        if (sample == null) yield break;
        var sass = PtxTools.Run(PtxTools.Cuobjdump, ["-sass", "-fun", sample.EntryName!, sample.CubinPath!], null, TimeSpan.FromMinutes(2));
        if (sass.ExitCode != 0 || !sass.Stdout.Contains("code for sm_90", StringComparison.Ordinal)
            || !sass.Stdout.Contains($"Function : {sample.EntryName}", StringComparison.Ordinal)
            || !sass.Stdout.Contains("EXIT", StringComparison.Ordinal))
            yield return $"cuobjdump -sass -fun {sample.EntryName} {sample.CubinPath} (exit {sass.ExitCode}) shows no sm_90 code " +
                         $"for {sample.Kernel.Name}:\n" + string.Join('\n', sass.Output.Split('\n').Take(30));
    }

    [Fact]
    public void Every_kernel_grouping_matches_its_signature()
    {
        var problems = new List<string>();
        foreach (var k in KernelCatalog.All())
        {
            var m = k.Method;
            var ps = m.GetParameters();
            bool indexFirst = ps.Length > 0 && IsIndex(ps[0].ParameterType);
            if (!m.IsStatic || m.ReturnType != typeof(void))
                problems.Add($"{k.Name}: a kernel must be a static method returning void");
            if (k.Grouping == KernelGrouping.Implicit && !indexFirst)
                problems.Add($"{k.Name} is Implicit but its first parameter is {(ps.Length > 0 ? Pretty(ps[0].ParameterType) : "missing")}, " +
                             "not Index1D/2D/3D (an implicitly grouped kernel receives its index first)");
            if (k.Grouping == KernelGrouping.Explicit && indexFirst)
                problems.Add($"{k.Name} is Explicit but its first parameter is {Pretty(ps[0].ParameterType)}: " +
                             "mark it Implicit, or read Grid/Group indices instead");
            if (m.IsGenericMethodDefinition)
                problems.Add($"{k.Name} is generic: the gate (and ILGPU) can only compile closed kernels");
        }
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    [Fact]
    public void Every_kernel_like_method_is_marked_GpuKernel()
    {
        // "Looks like a kernel": a public static void method of a *Kernels class whose parameters are all passed by
        // value (device helpers take ref/out/in or return a value, or are not public).
        var asm = typeof(KernelCatalog).Assembly;
        var kernelClasses = asm.GetTypes().Where(t => t.Name.EndsWith("Kernels", StringComparison.Ordinal)).ToList();
        Assert.Contains(kernelClasses, t => t == typeof(CopyKernels));
        var unmarked = kernelClasses
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => !m.IsSpecialName && m.ReturnType == typeof(void)
                        && m.GetParameters().All(p => !p.ParameterType.IsByRef && !p.ParameterType.IsPointer))
            .Where(m => m.GetCustomAttribute<GpuKernelAttribute>() == null)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => Pretty(p.ParameterType)))})")
            .ToList();
        Assert.True(unmarked.Count == 0,
            "these public static void methods of *Kernels classes look like kernels but carry no [GpuKernel(...)], so the " +
            "PTX gate would not check them (mark them, or make device helpers non-public / by-ref):\n" + string.Join('\n', unmarked));
    }

    [Fact]
    public void Gate_sees_spills_shared_memory_and_ptxas_errors()
    {
        var ptxas = PtxTools.Ptxas;
        KernelCatalog.Entry Probe(string name, KernelGrouping g) => new(typeof(GateProbes).GetMethod(name)!, g, NoSpill: true);
        var work = Path.Combine(PtxTools.RepoRoot, "artifacts", "ptx-gate-probes");
        // Capped at 24 registers (sm_90's lower bound), 40 live floats must spill: a NoSpill kernel then fails.
        var run = PtxGate.Run(
            [Probe(nameof(GateProbes.Pressure), KernelGrouping.Explicit), Probe(nameof(GateProbes.Shared), KernelGrouping.Explicit),
             Probe(nameof(GateProbes.Scale), KernelGrouping.Implicit), Probe(nameof(GateProbes.Helper), KernelGrouping.Implicit)],
            work, ptxas, ["--maxrregcount", "24"], batches: 1);
        output.WriteLine(PtxGate.Table(run, "ptxas --maxrregcount 24"));
        var rows = run.Rows;
        Assert.All(run.Batches, b => Assert.True(b.Succeeded, b.Output));
        var pressure = rows[0];
        Assert.NotNull(pressure.Entry);
        Assert.True(pressure.Spills, pressure.PtxasOutput);
        Assert.Contains(pressure.Failures(), f => f.Contains("spills", StringComparison.Ordinal));
        Assert.Equal(256 * sizeof(float), rows[1].Entry!.SharedBytes);
        Assert.Empty(rows[1].Failures());
        Assert.Empty(rows[2].Failures());
        // the non-inlined device function is found in the module and attributed to its kernel
        Assert.NotEmpty(rows[3].FuncNames);
        Assert.Single(rows[3].Helpers);
        Assert.DoesNotContain(run.Failures(), f => !f.StartsWith("GateProbes.Pressure", StringComparison.Ordinal));

        // PTX that ptxas 11.8 refuses (ISA 8.8) in a batch: the batch fails, the module alone is blamed with ptxas's message.
        File.WriteAllText(rows[2].PtxPath!, rows[2].Ptx!.Replace(".version 7.8", ".version 8.8", StringComparison.Ordinal));
        var batch = PtxGate.AssembleBatch([rows[1], rows[2]], Path.Combine(work, "bad.cubin"), ptxas, []);
        Assert.False(batch.Succeeded);
        Assert.Contains(rows[2].Failures(), f => f.Contains("rejected", StringComparison.Ordinal) && f.Contains("8.8", StringComparison.Ordinal));
        Assert.Empty(rows[1].Failures());
    }

    [Fact]
    public void Ptxas_output_is_parsed()
    {
        const string text = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Function properties for helper_func
                8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads
            ptxas info    : Compiling entry function 'Kernel_Softmax' for 'sm_90'
            ptxas info    : Function properties for Kernel_Softmax
                16 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 40 registers, 2048 bytes smem, 384 bytes cmem[0]
            ptxas warning : Registers are spilled to local memory in function 'helper_func'
            """;
        var (functions, warnings) = PtxasReport.Parse(text);
        var entry = Assert.Single(functions, f => f.IsEntry);
        Assert.Equal(("Kernel_Softmax", 40, 2048L, 16L, 0L), (entry.Name, entry.Registers, entry.SharedBytes, entry.StackBytes, entry.SpillStoreBytes));
        var helper = Assert.Single(functions, f => !f.IsEntry);
        Assert.Equal((4L, 12L), (helper.SpillStoreBytes, helper.SpillLoadBytes));
        Assert.Single(warnings);
    }
}
