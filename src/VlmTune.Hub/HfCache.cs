namespace VlmTune.Hub;

/// <summary>
/// The cache as huggingface_hub lays it out, so a model fetched with <c>huggingface-cli download</c> is found here and
/// one fetched here is found by transformers:
/// <code>
/// {root}/models--org--name/
///   refs/{revision}                 the commit the revision pointed to (text, no newline)
///   blobs/{etag}                    file contents, named by git-sha1 (small files) or sha256 (LFS files)
///   snapshots/{commit}/{path}       relative symlink to ../../blobs/{etag} (a copy where links are unsupported)
/// </code>
/// </summary>
public sealed class HfCache(string root)
{
    public string Root { get; } = root;

    public string RepoFolder(HubRepoId repo) => Path.Combine(Root, repo.CacheFolderName);

    public string RefPath(HubRepoId repo, string revision) => Path.Combine(RepoFolder(repo), "refs", revision);

    public string BlobPath(HubRepoId repo, string etag) => Path.Combine(RepoFolder(repo), "blobs", etag);

    public string SnapshotFolder(HubRepoId repo, string commit) => Path.Combine(RepoFolder(repo), "snapshots", commit);

    public string PointerPath(HubRepoId repo, string commit, string file) =>
        Path.Combine(SnapshotFolder(repo, commit), file.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>The commit that <paramref name="repo"/>'s revision resolves to in the cache, or null.</summary>
    public string? CommitOf(HubRepoId repo)
    {
        if (repo.IsCommit) return Directory.Exists(SnapshotFolder(repo, repo.Revision)) ? repo.Revision : null;
        string refFile = RefPath(repo, repo.Revision);
        if (!File.Exists(refFile)) return null;
        string commit = File.ReadAllText(refFile).Trim();
        return HubRepoId.IsCommitHash(commit) ? commit : null;
    }

    /// <summary>The snapshot folder for <paramref name="repo"/>'s revision, or null when the cache does not have it.</summary>
    public string? FindSnapshot(HubRepoId repo) =>
        CommitOf(repo) is { } commit && Directory.Exists(SnapshotFolder(repo, commit)) ? SnapshotFolder(repo, commit) : null;

    /// <summary>Records that <paramref name="revision"/> points at <paramref name="commit"/> (atomically).</summary>
    public void WriteRef(HubRepoId repo, string revision, string commit)
    {
        if (revision == commit) return;
        string path = RefPath(repo, revision);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + $".{Environment.ProcessId}.tmp";
        File.WriteAllText(temp, commit);
        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Links snapshots/{commit}/{file} to blobs/{etag} (relative, as huggingface_hub does).</summary>
    public void LinkPointer(HubRepoId repo, string commit, string file, string etag)
    {
        string pointer = PointerPath(repo, commit, file);
        string blob = BlobPath(repo, etag);
        Directory.CreateDirectory(Path.GetDirectoryName(pointer)!);
        if (File.Exists(pointer) || new FileInfo(pointer).LinkTarget is not null) File.Delete(pointer);
        string relative = Path.GetRelativePath(Path.GetDirectoryName(pointer)!, blob);
        try
        {
            File.CreateSymbolicLink(pointer, relative);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            File.Copy(blob, pointer);   // huggingface_hub's fallback where symlinks are not allowed
        }
    }
}
