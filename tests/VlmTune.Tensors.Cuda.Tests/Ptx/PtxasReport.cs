using System.Globalization;
using System.Text.RegularExpressions;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>Resource use of one function as printed by <c>ptxas -v</c>.</summary>
public sealed record PtxasFunction(string Name, bool IsEntry)
{
    public int Registers { get; set; }
    public long SharedBytes { get; set; }
    public long StackBytes { get; set; }
    public long SpillStoreBytes { get; set; }
    public long SpillLoadBytes { get; set; }
}

/// <summary>
/// Parses the <c>-v</c> output of ptxas 11.8 (and later, which adds fields but keeps these phrases):
/// <code>
/// ptxas info    : Compiling entry function 'Kernel_Copy' for 'sm_90'
/// ptxas info    : Function properties for Kernel_Copy
///     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
/// ptxas info    : Used 32 registers, 1024 bytes smem, 384 bytes cmem[0]
/// </code>
/// Non-entry functions (<c>.func</c>) get "Function properties" lines but no "Used" line.
/// </summary>
public static partial class PtxasReport
{
    [GeneratedRegex(@"Compiling entry function '([^']+)'")]
    private static partial Regex EntryRx();
    [GeneratedRegex(@"Function properties for (\S+)")]
    private static partial Regex PropsRx();
    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex FrameRx();
    [GeneratedRegex(@"Used (\d+) registers")]
    private static partial Regex RegsRx();
    [GeneratedRegex(@"(\d+) bytes smem")]
    private static partial Regex SmemRx();

    /// <summary>Every function ptxas reported, in order, and the warning lines.</summary>
    public static (IReadOnlyList<PtxasFunction> Functions, IReadOnlyList<string> Warnings) Parse(string text)
    {
        var functions = new List<PtxasFunction>();
        var warnings = new List<string>();
        PtxasFunction? entry = null, props = null;
        PtxasFunction Get(string name, bool isEntry)
        {
            var f = functions.Find(x => x.Name == name);
            if (f == null) functions.Add(f = new PtxasFunction(name, isEntry));
            return f;
        }
        static long L(Group g) => long.Parse(g.Value, CultureInfo.InvariantCulture);

        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Contains("warning", StringComparison.OrdinalIgnoreCase)) warnings.Add(line);
            Match m;
            if ((m = EntryRx().Match(line)).Success) { entry = Get(m.Groups[1].Value, true); props = null; continue; }
            if ((m = PropsRx().Match(line)).Success) { props = Get(m.Groups[1].Value, m.Groups[1].Value == entry?.Name); continue; }
            if ((m = FrameRx().Match(line)).Success && props != null)
            {
                props.StackBytes = L(m.Groups[1]);
                props.SpillStoreBytes = L(m.Groups[2]);
                props.SpillLoadBytes = L(m.Groups[3]);
                continue;
            }
            if ((m = RegsRx().Match(line)).Success && entry != null)
            {
                entry.Registers = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                if ((m = SmemRx().Match(line)).Success) entry.SharedBytes = L(m.Groups[1]);
            }
        }
        return (functions, warnings);
    }
}
