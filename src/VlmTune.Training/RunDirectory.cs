namespace VlmTune.Training;

/// <summary>
/// The run folder's lifecycle around a training run: one run at a time (an exclusive lock, the holder's pid beside
/// it), leftovers of crashed writes removed at start, the checkpoints checked against the recipe before anything is
/// written, and `--no-resume` clearing exactly the files a run makes.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    public const string LockFileName = ".vlmtune.lock";
    const string PidFileName = ".vlmtune.lock.pid";

    /// <summary>What a run writes into its folder (and `--no-resume` removes); anything else is left alone.</summary>
    static readonly string[] RunFiles = ["metrics.jsonl", "train.log", "loss.png", "rewards.png", "recipe.resolved.yaml"];
    static readonly string[] RunFolders = ["checkpoints", "adapter"];

    readonly FileStream _lock;
    readonly string _pidFile;

    public string Path { get; }

    RunDirectory(string path, FileStream lockStream, string pidFile) => (Path, _lock, _pidFile) = (path, lockStream, pidFile);

    /// <summary>
    /// Takes the folder's lock (created if needed); a second run into the same folder throws
    /// <see cref="RunDirectoryException"/> naming the first one's pid. The lock dies with its process (kill -9 included).
    /// </summary>
    public static RunDirectory Acquire(string dir)
    {
        CreateOutput(dir, "output.dir");
        string lockPath = System.IO.Path.Combine(dir, LockFileName), pidPath = System.IO.Path.Combine(dir, PidFileName);
        FileStream stream;
        try
        {
            stream = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException) when (File.Exists(lockPath))
        {
            string holder = File.Exists(pidPath) ? File.ReadAllText(pidPath).Trim() : "unknown";
            throw new RunDirectoryException($"{dir}: another run (pid {holder}) is training into this folder; " +
                                            "wait for it to finish or choose another output.dir");
        }
        File.WriteAllText(pidPath, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return new RunDirectory(dir, stream, pidPath);
    }

    /// <summary>
    /// Creates an output folder, turning the file system's failures into one sentence naming the user's key or flag:
    /// a file in the way, a virtual file system (/proc, /sys), no permission.
    /// </summary>
    public static void CreateOutput(string dir, string key)
    {
        CheckOutputPath(dir, key, folder: true);
        string full = System.IO.Path.GetFullPath(dir);
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (UnauthorizedAccessException)
        {
            throw new RunDirectoryException($"{key} {dir} cannot be created: permission denied");
        }
        catch (IOException e)
        {
            throw new RunDirectoryException($"{key} {dir} cannot be created: {FirstSentence(e.Message)}");
        }
    }

    /// <summary>
    /// Refuses, in one sentence naming <paramref name="key"/>, an output path that cannot be written: inside a virtual
    /// file system (/proc, /sys, /dev), below a file, or (for a <paramref name="folder"/>) a file itself / (for a
    /// file) an existing folder. Nothing is created.
    /// </summary>
    public static void CheckOutputPath(string path, string key, bool folder)
    {
        string full = System.IO.Path.GetFullPath(path);
        foreach (var virt in new[] { "/proc", "/sys", "/dev" })
            if (full == virt || full.StartsWith(virt + "/", StringComparison.Ordinal))
                throw new RunDirectoryException($"{key} {path} is inside {virt}, a virtual file system that cannot hold files; choose a path on a disk");
        if (folder && File.Exists(full)) throw new RunDirectoryException($"{key} {path} is a file, not a folder; choose a folder path");
        if (!folder && Directory.Exists(full)) throw new RunDirectoryException($"{key} {path} is a folder; give a file path");
        for (var parent = System.IO.Path.GetDirectoryName(full); parent != null; parent = System.IO.Path.GetDirectoryName(parent))
            if (File.Exists(parent))
                throw new RunDirectoryException($"{key} {path} cannot be created: {parent} is a file, not a folder");
    }

    /// <summary>
    /// Removes what crashed writes left behind: `*.tmp-PID` folders and files (never complete) and `*.old-PID`
    /// folders whose replacement is in place (an aside without one is the only copy: it is moved back).
    /// Safe only under the lock, when no other writer can be running. Returns one line per thing removed.
    /// </summary>
    public List<string> RemoveLeftovers()
    {
        var done = new List<string>();
        foreach (var dir in new[] { Path, System.IO.Path.Combine(Path, "checkpoints") }.Where(Directory.Exists))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(dir).Order(StringComparer.Ordinal).ToList())
            {
                string name = System.IO.Path.GetFileName(entry);
                int tmp = name.LastIndexOf(".tmp-", StringComparison.Ordinal), old = name.LastIndexOf(".old-", StringComparison.Ordinal);
                if (tmp > 0)
                {
                    DeleteQuietly(entry);
                    done.Add($"removed {entry} (left by an interrupted write)");
                }
                else if (old > 0 && Directory.Exists(entry))
                {
                    string original = System.IO.Path.Combine(dir, name[..old]);
                    if (Directory.Exists(original))
                    {
                        DeleteQuietly(entry);
                        done.Add($"removed {entry} (replaced by {original})");
                    }
                    else
                    {
                        Directory.Move(entry, original);
                        done.Add($"restored {original} from {entry}");
                    }
                }
            }
        }
        return done;
    }

    /// <summary>The run's own files and folders present in <paramref name="dir"/> (what `--no-resume` removes).</summary>
    public static List<string> RunArtifacts(string dir)
    {
        if (!Directory.Exists(dir)) return [];
        var found = RunFolders.Select(f => System.IO.Path.Combine(dir, f)).Where(Directory.Exists)
            .Concat(RunFiles.Select(f => System.IO.Path.Combine(dir, f)).Where(File.Exists))
            .Concat(Directory.GetFiles(dir, "reference-logps-*.safetensors"))
            .Concat(Directory.GetFiles(dir, "events.out.tfevents.*"));      // TensorBoard (the image-feature cache is kept: its entries are keyed and checked)
        return found.Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Removes <see cref="RunArtifacts"/> (call under the lock); other files in the folder are kept.</summary>
    public void Clear()
    {
        foreach (var a in RunArtifacts(Path))
            if (Directory.Exists(a)) Directory.Delete(a, true);
            else File.Delete(a);
    }

    /// <summary>
    /// The latest checkpoint that can continue this run, checked before the run writes anything (the recipe file is
    /// then not overwritten by a configuration that would be refused). Unreadable checkpoints are skipped here and
    /// reported by the trainer's resume. Returns null when there is none.
    /// </summary>
    public static TrainerState? CheckResumable(RunSettings s)
    {
        foreach (var (_, path) in TrainingCheckpoint.List(s.OutputDir).Reverse())
        {
            TrainerState state;
            try
            {
                state = TrainingCheckpoint.ReadState(path);
            }
            catch (CheckpointUnreadableException)
            {
                continue;
            }
            TrainingCheckpoint.CheckCompatible(path, state, s.ConfigHash, s.RunHash, s.Extend);
            if (s.Extend && s.MaxSteps > 0 && s.MaxSteps <= state.Step)
                throw new CheckpointMismatchException($"{path}: --extend needs train.max_steps above the {state.Step} steps already done (got {s.MaxSteps})");
            return state;
        }
        return null;
    }

    /// <summary>"{what} ({reason}); it needs about X MB, Y MB are free on {mount}".</summary>
    public static string SpaceMessage(string what, Exception e, string dir, long neededBytes)
    {
        string free = "";
        try
        {
            var drive = new DriveInfo(System.IO.Path.GetFullPath(dir));
            free = $", {drive.AvailableFreeSpace / 1e6:F1} MB are free on {drive.RootDirectory.FullName}";
        }
        catch (Exception x) when (x is IOException or ArgumentException or UnauthorizedAccessException)
        {
            // no free-space figure for this file system
        }
        return $"{what} ({FirstSentence(e.Message)}); it needs about {neededBytes / 1e6:F1} MB{free}";
    }

    /// <summary>Deletes a file or folder, ignoring failures (cleanup after another error).</summary>
    public static void DeleteQuietly(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, true);
            else if (File.Exists(path)) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // best effort: the start-of-run cleanup retries
        }
    }

    static string FirstSentence(string message)
    {
        var line = message.Split('\n')[0].Trim();
        return line.EndsWith('.') ? line[..^1] : line;
    }

    public void Dispose()
    {
        DeleteQuietly(_pidFile);
        _lock.Dispose();
    }
}

/// <summary>A run folder that cannot be used (locked by another run, not creatable); the message is one sentence.</summary>
public sealed class RunDirectoryException(string message) : IOException(message);
