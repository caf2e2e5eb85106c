namespace VlmTune.Models.SmolVlm;

/// <summary>
/// Writing a whole checkpoint directory without ever leaving a half-written one: build it in a sibling temp directory,
/// then swap it in (the old directory is renamed aside first and deleted only after the new one is in place).
/// </summary>
public static class OutputDirectory
{
    /// <summary>Refuses a non-empty output without <paramref name="force"/>, and any output that is, or contains, an input.</summary>
    public static void Check(string output, bool force, params string[] inputs)
    {
        string full = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar);
        foreach (var input in inputs)
        {
            string inp = Path.GetFullPath(input).TrimEnd(Path.DirectorySeparatorChar);
            if (inp == full || inp.StartsWith(full + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                throw new IOException($"{output}: the output directory would overwrite the input {input}");
        }
        if (Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any())
        {
            if (!force) throw new IOException($"{output} exists and is not empty (use --force to replace it)");
            if (!File.Exists(Path.Combine(output, "config.json")))
                throw new IOException($"{output} is not a checkpoint directory (no config.json); refusing to replace it even with --force");
        }
    }

    /// <summary>A fresh temp directory beside <paramref name="output"/>.</summary>
    public static string CreateTemp(string output)
    {
        string tmp = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar) + $".tmp-{Environment.ProcessId}";
        if (Directory.Exists(tmp)) Directory.Delete(tmp, true);
        Directory.CreateDirectory(tmp);
        return tmp;
    }

    /// <summary>Moves <paramref name="tmp"/> to <paramref name="output"/>, replacing it.</summary>
    public static void Commit(string tmp, string output)
    {
        string full = Path.GetFullPath(output).TrimEnd(Path.DirectorySeparatorChar);
        string? aside = null;
        if (Directory.Exists(full))
        {
            aside = full + $".old-{Environment.ProcessId}";
            if (Directory.Exists(aside)) Directory.Delete(aside, true);
            Directory.Move(full, aside);
        }
        Directory.Move(tmp, full);
        if (aside != null) Directory.Delete(aside, true);
    }
}
