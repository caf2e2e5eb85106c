namespace VlmTune.Data.Datasets;

/// <summary>
/// A path with every symbolic link resolved, component by component (what realpath(3) gives), so that a check
/// "is this inside that folder" cannot be passed by a link. Components that do not exist are kept as written.
/// </summary>
public static class RealPath
{
    /// <summary>The fully resolved form of <paramref name="path"/> (absolute; at most 40 links followed, as Linux).</summary>
    public static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string root = Path.GetPathRoot(full)!;
        var pending = new Stack<string>(full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse());
        string current = root;
        int links = 0;
        while (pending.Count > 0)
        {
            string part = pending.Pop();
            if (part == ".") continue;
            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? root;
                continue;
            }
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is { } target)
            {
                if (++links > 40) throw new IOException($"{path}: too many levels of symbolic links");
                // The target replaces this component (relative targets are relative to the link's folder).
                string resolved = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                string resolvedRoot = Path.GetPathRoot(Path.GetFullPath(resolved))!;
                foreach (var p in Path.GetFullPath(resolved)[resolvedRoot.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries).Reverse())
                    pending.Push(p);
                current = resolvedRoot;
                continue;
            }
            current = next;
        }
        return current;
    }
}
