using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>What the gate found for one kernel.</summary>
public sealed class PtxGateRow(KernelCatalog.Entry kernel)
{
    public KernelCatalog.Entry Kernel { get; } = kernel;
    /// <summary>The module ILGPU wrote, with its entry renamed to <see cref="EntryName"/>.</summary>
    public string? Ptx { get; set; }
    public string? EntryName { get; set; }
    /// <summary>The .func names the module defines (ILGPU's non-inlined device functions).</summary>
    public HashSet<string> FuncNames { get; set; } = [];
    public string? PtxPath { get; set; }
    /// <summary>The cubin holding this kernel (its batch's, or its own after a failed batch).</summary>
    public string? CubinPath { get; set; }
    /// <summary>ILGPU's exception when the kernel did not compile to PTX.</summary>
    public string? CompileError { get; set; }
    /// <summary>ptxas's output when it rejected this module (assembled alone).</summary>
    public string? AssembleError { get; set; }
    /// <summary>What ptxas reported for this module's functions.</summary>
    public string PtxasOutput { get; set; } = "";
    public PtxasFunction? Entry { get; set; }
    public List<PtxasFunction> Helpers { get; } = [];
    public List<string> Warnings { get; } = [];
    public double CompileMs { get; set; }
    public double AssembleMs { get; set; }

    /// <summary>Spilled bytes over every function of the module (the entry and its .func helpers).</summary>
    public long SpillStoreBytes => (Entry?.SpillStoreBytes ?? 0) + Helpers.Sum(f => f.SpillStoreBytes);
    public long SpillLoadBytes => (Entry?.SpillLoadBytes ?? 0) + Helpers.Sum(f => f.SpillLoadBytes);
    /// <summary>The entry's stack frame plus its helpers' (an upper bound on the call chain's).</summary>
    public long StackBytes => (Entry?.StackBytes ?? 0) + Helpers.Sum(f => f.StackBytes);
    public bool Spills => SpillStoreBytes + SpillLoadBytes > 0;

    /// <summary>The reasons this kernel fails the gate (empty: it passes).</summary>
    public IEnumerable<string> Failures()
    {
        if (CompileError != null) yield return $"{Kernel.Name}: ILGPU could not compile it to PTX:\n{CompileError}";
        else if (AssembleError != null) yield return $"{Kernel.Name}: ptxas -arch=sm_90 rejected {PtxPath}:\n{AssembleError}";
        else if (Entry == null) yield return $"{Kernel.Name}: ptxas reported no entry function {EntryName} for it:\n{PtxasOutput}";
        else if (Kernel.NoSpill && Spills)
            yield return $"{Kernel.Name} is [GpuKernel(NoSpill = true)] but spills {SpillStoreBytes} bytes of stores and " +
                         $"{SpillLoadBytes} bytes of loads per thread to local memory at {Entry.Registers} registers " +
                         $"(reduce live values / tile sizes, or unroll less); ptxas said:\n{PtxasOutput}";
    }

    public string Status => CompileError != null ? "ILGPU FAILED" : AssembleError != null ? "ptxas FAILED"
        : Entry == null ? "NO ENTRY" : Kernel.NoSpill && Spills ? "FAIL: spills" : Spills ? "ok (spills)" : "ok";
}

/// <summary>One ptxas invocation over several modules.</summary>
public sealed record PtxasBatch(IReadOnlyList<string> Kernels, string CubinPath, string Output, bool Succeeded, TimeSpan Elapsed)
{
    /// <summary>Functions ptxas reported that no module of the batch defines (should not happen).</summary>
    public List<PtxasFunction> Unattributed { get; } = [];
    /// <summary>Warnings that name no function of the batch.</summary>
    public List<string> Warnings { get; } = [];
}

/// <summary>The gate's findings: one row per kernel, the ptxas batches, the ILGPU context used.</summary>
public sealed record PtxGateRun(IReadOnlyList<PtxGateRow> Rows, IReadOnlyList<PtxasBatch> Batches, string Context, TimeSpan Elapsed)
{
    public IEnumerable<string> Failures() =>
        Rows.SelectMany(r => r.Failures())
            .Concat(Batches.SelectMany(b => b.Unattributed).Select(f =>
                $"ptxas reported function {f.Name} that no kernel's PTX defines (spills {f.SpillStoreBytes + f.SpillLoadBytes} B)"));
}

/// <summary>
/// Compiles kernels to PTX with ILGPU (one context, serially), then assembles them with <c>ptxas -arch=sm_90 -v</c>.
/// ptxas's start-up dominates small modules (~0.25 s each, about 10× the work of a typical kernel), so all modules go
/// to one ptxas invocation per batch (a few batches run in parallel); ptxas assembles several .ptx files as one
/// program, so each module's entry is renamed to a unique name first (ILGPU calls every entry Kernel_Method) and
/// ILGPU's .func names are unique within a context already. Only when a batch fails is each of its modules
/// re-assembled alone, so every error is pinned on its kernel.
/// </summary>
public static partial class PtxGate
{
    public static TimeSpan PtxasTimeout { get; set; } = TimeSpan.FromMinutes(5);

    [GeneratedRegex(@"^(\s*(?:\.visible\s+|\.weak\s+)?\.entry\s+)([A-Za-z_$][\w$]*)(\s*\()", RegexOptions.Multiline)]
    private static partial Regex EntryRx();
    [GeneratedRegex(@"\.func\s+(?:\([^)]*\)\s*)?([A-Za-z_$][\w$]*)\s*\(")]
    private static partial Regex FuncRx();

    /// <summary>The unique entry name the gate gives kernel <paramref name="index"/> (shown by ptxas and cuobjdump).</summary>
    public static string EntryName(int index, KernelCatalog.Entry kernel) =>
        $"gate{index:D3}_{kernel.Method.DeclaringType!.Name}_{kernel.Method.Name}";

    /// <summary>Compiles and assembles <paramref name="kernels"/>; PTX, cubins and logs go to <paramref name="workDir"/> (emptied first).</summary>
    public static PtxGateRun Run(IReadOnlyList<KernelCatalog.Entry> kernels, string workDir, string ptxas,
        IReadOnlyList<string>? extraArgs = null, int? batches = null)
    {
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(workDir);
        foreach (var f in Directory.EnumerateFiles(workDir)) File.Delete(f);
        var rows = kernels.Select(k => new PtxGateRow(k)).ToList();
        string context;
        using (var compiler = new PtxCompiler())
        {
            context = compiler.Description;
            for (int i = 0; i < rows.Count; i++)
            {
                var row = rows[i];
                var sw = Stopwatch.StartNew();
                try { row.Ptx = compiler.Compile(row.Kernel); }
                catch (Exception e) { row.CompileError = Explain(e); }
                row.CompileMs = sw.Elapsed.TotalMilliseconds;
                if (row.Ptx == null) continue;
                var entries = EntryRx().Matches(row.Ptx);
                if (entries.Count != 1)
                {
                    row.CompileError = $"ILGPU's PTX has {entries.Count} .entry directives (expected 1)";
                    continue;
                }
                row.EntryName = EntryName(i, row.Kernel);
                row.Ptx = EntryRx().Replace(row.Ptx, m => m.Groups[1].Value + row.EntryName + m.Groups[3].Value);
                row.FuncNames = FuncRx().Matches(row.Ptx).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
                row.PtxPath = Path.Combine(workDir, row.Kernel.Name + ".ptx");
                File.WriteAllText(row.PtxPath, row.Ptx);
            }
        }
        var compiled = rows.Where(r => r.PtxPath != null).ToList();
        int n = Math.Clamp(batches ?? Math.Min(Environment.ProcessorCount, (compiled.Count + 15) / 16), 1, Math.Max(1, compiled.Count));
        var groups = compiled.Select((r, i) => (r, i)).GroupBy(x => x.i % n, x => x.r).Select(g => g.ToList()).ToList();
        var results = new PtxasBatch[groups.Count];
        Parallel.For(0, groups.Count, new ParallelOptions { MaxDegreeOfParallelism = n },
            b => results[b] = AssembleBatch(groups[b], Path.Combine(workDir, $"batch{b}.cubin"), ptxas, extraArgs ?? []));
        return new PtxGateRun(rows, results, context, total.Elapsed);
    }

    /// <summary>ILGPU's exception as its chain of messages (the stack traces are ILGPU's internals), plus a hint.</summary>
    static string Explain(Exception e)
    {
        var lines = new List<string>();
        for (var x = e; x != null; x = x is AggregateException a && a.InnerExceptions.Count == 1 ? a.InnerExceptions[0] : x.InnerException)
            if (x is not AggregateException) lines.Add($"{x.GetType().Name}: {x.Message}");
        var text = string.Join("\n  ", lines.Distinct());
        if (text.Contains("does not have an intrinsic implementation", StringComparison.Ordinal))
            text += "\n  hint: ILGPU's PTX backend has no built-in MathF.Exp/Log/Pow (Sqrt, Tanh, Sin/Cos, Log2, 1/Sqrt are built in); " +
                    "they run in simulation but not on a GPU unless the context enables ILGPU.Algorithms or libdevice " +
                    "(then CudaRuntime.ConfigureContext must do so, and the gate follows it).";
        return text;
    }

    /// <summary>One ptxas invocation over several modules; on failure, each module alone.</summary>
    public static PtxasBatch AssembleBatch(List<PtxGateRow> rows, string cubin, string ptxas, IReadOnlyList<string> extraArgs)
    {
        var sw = Stopwatch.StartNew();
        var r = RunPtxas(ptxas, extraArgs, cubin, rows.Select(x => x.PtxPath!));
        var batch = new PtxasBatch(rows.Select(x => x.Kernel.Name).ToList(), cubin, r.Output.Trim(), r.ExitCode == 0, sw.Elapsed);
        if (r.ExitCode == 0)
        {
            Attribute(rows, r.Output, batch.Unattributed, batch.Warnings);
            foreach (var row in rows) { row.CubinPath = cubin; row.AssembleMs = sw.Elapsed.TotalMilliseconds / rows.Count; }
            return batch;
        }
        foreach (var row in rows) Assemble(row, ptxas, extraArgs);
        return batch;
    }

    static PtxTools.ProcessResult RunPtxas(string ptxas, IReadOnlyList<string> extraArgs, string cubin, IEnumerable<string> inputs)
    {
        try
        {
            return PtxTools.Run(ptxas, ["-arch=sm_90", "-v", .. extraArgs, "-o", cubin, .. inputs], null, PtxasTimeout);
        }
        catch (Exception e)
        {
            return new PtxTools.ProcessResult(-1, "", $"could not run {ptxas}: {e.Message}", false);
        }
    }

    /// <summary>Assembles one module alone into its own cubin and records what ptxas said.</summary>
    public static void Assemble(PtxGateRow row, string ptxas, IReadOnlyList<string>? extraArgs = null)
    {
        var sw = Stopwatch.StartNew();
        row.CubinPath = Path.ChangeExtension(row.PtxPath!, ".cubin");
        var r = RunPtxas(ptxas, extraArgs ?? [], row.CubinPath, [row.PtxPath!]);
        row.AssembleMs = sw.Elapsed.TotalMilliseconds;
        row.PtxasOutput = "";
        if (r.ExitCode != 0)
        {
            row.AssembleError = (r.TimedOut ? $"timed out after {PtxasTimeout.TotalSeconds} s\n" : $"exit {r.ExitCode}\n") + r.Output.Trim();
            return;
        }
        Attribute([row], r.Output, [], []);
    }

    /// <summary>Hands each function ptxas reported to the module that defines it (entries by name, .func by PTX).</summary>
    static void Attribute(List<PtxGateRow> rows, string output, List<PtxasFunction> unattributed, List<string> otherWarnings)
    {
        var (functions, warnings) = PtxasReport.Parse(output);
        foreach (var f in functions)
        {
            var row = f.IsEntry ? rows.Find(x => x.EntryName == f.Name) : rows.Find(x => x.FuncNames.Contains(f.Name));
            if (row == null) { unattributed.Add(f); continue; }
            if (f.IsEntry) row.Entry = f;
            else row.Helpers.Add(f);
            row.PtxasOutput += (row.PtxasOutput.Length > 0 ? "\n" : "") + Describe(f);
        }
        // warnings name their function ('...' in the text) when they concern one
        foreach (var w in warnings)
        {
            var row = rows.Find(x => x.EntryName != null && w.Contains(x.EntryName, StringComparison.Ordinal))
                      ?? rows.Find(x => x.FuncNames.Any(fn => w.Contains($"'{fn}'", StringComparison.Ordinal)));
            if (row == null && rows.Count == 1) row = rows[0];
            if (row != null) row.Warnings.Add(w);
            else otherWarnings.Add(w);
        }
    }

    static string Describe(PtxasFunction f) => string.Create(CultureInfo.InvariantCulture,
        $"{(f.IsEntry ? "entry" : ".func")} {f.Name}: {f.Registers} registers, {f.SpillStoreBytes} B spill stores, " +
        $"{f.SpillLoadBytes} B spill loads, {f.SharedBytes} B smem, {f.StackBytes} B stack");

    [GeneratedRegex(@"^\.target\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex TargetRx();

    /// <summary>The table: kernel / grouping / NoSpill / registers / spill stores / spill loads / shared memory / stack.</summary>
    public static string Table(PtxGateRun run, string ptxasVersion)
    {
        var inv = CultureInfo.InvariantCulture;
        var rows = run.Rows;
        var targets = rows.Where(r => r.Ptx != null).Select(r => TargetRx().Match(r.Ptx!).Groups[1].Value).Distinct().Order();
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"PTX gate: {rows.Count} kernels; ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version?.ToString(3)} " +
                           $"({run.Context}) -> PTX ISA 7.8, .target {string.Join("/", targets)}; {ptxasVersion} -arch=sm_90 -v");
        string[] head = ["kernel", "grouping", "nospill", "registers", "spill stores", "spill loads", "smem", "stack", "status"];
        var cells = rows.Select(r => new[]
        {
            r.Kernel.Name, r.Kernel.Grouping.ToString(), r.Kernel.NoSpill ? "yes" : "-",
            N(r.Entry?.Registers), N(r.Entry == null ? null : r.SpillStoreBytes), N(r.Entry == null ? null : r.SpillLoadBytes),
            N(r.Entry?.SharedBytes), N(r.Entry == null ? null : r.StackBytes), r.Status,
        }).ToList();
        var width = head.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        void Line(string[] c)
        {
            var line = string.Join("  ", c.Select((v, i) => i is 0 or 1 or 2 or 8 ? v.PadRight(width[i]) : v.PadLeft(width[i])));
            sb.AppendLine(line.TrimEnd());
        }
        Line(head);
        Line(width.Select(w => new string('-', w)).ToArray());
        foreach (var c in cells) Line(c);
        sb.AppendLine("registers: per thread; spill stores/loads and stack: bytes per thread; smem: bytes of static shared memory per group.");
        var ok = rows.Where(r => r.Entry != null).ToList();
        if (ok.Count > 0)
        {
            var maxRegs = ok.MaxBy(r => r.Entry!.Registers)!;
            var maxSmem = ok.MaxBy(r => r.Entry!.SharedBytes)!;
            sb.AppendLine(inv, $"max registers {maxRegs.Entry!.Registers} ({maxRegs.Kernel.Name}); max smem {maxSmem.Entry!.SharedBytes} B ({maxSmem.Kernel.Name}); " +
                               $"{ok.Count(r => r.Spills)} kernel(s) spill, {ok.Count(r => r.StackBytes > 0)} use a stack frame.");
        }
        foreach (var r in rows)
            foreach (var w in r.Warnings) sb.AppendLine(inv, $"warning ({r.Kernel.Name}): {w}");
        foreach (var b in run.Batches)
            foreach (var w in b.Warnings) sb.AppendLine(inv, $"warning: {w}");
        int failing = rows.Count(r => r.Failures().Any());
        sb.AppendLine(inv, $"gate: {rows.Count - failing} of {rows.Count} kernel(s) pass, {failing} fail; ILGPU {rows.Sum(r => r.CompileMs) / 1000:F1} s, " +
                           $"ptxas {run.Batches.Count} batch(es) {run.Batches.Sum(b => b.Elapsed.TotalSeconds):F1} s" +
                           $"{(run.Batches.Any(b => !b.Succeeded) ? " (+ modules alone after a failed batch)" : "")}; {run.Elapsed.TotalSeconds:F1} s in all.");
        return sb.ToString();

        static string N(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "?";
    }
}
