namespace VlmTune.Hub;

/// <summary>
/// Where a user-given name lives: an existing local path wins (as in transformers' from_pretrained); otherwise a name
/// shaped <c>org/name[@revision]</c> is a Hub repository, resolved through the cache (downloaded when missing).
/// </summary>
public static class HubLocator
{
    /// <summary>A checkpoint folder for <c>model.path</c> / <c>--model</c>: the path itself, or the Hub snapshot.</summary>
    public static string ResolveModel(string pathOrId, Action<string>? log = null, HubEnvironment? env = null, Action<DownloadProgress>? progress = null) =>
        Resolve(pathOrId, HubRepoType.Model, log, env, progress);

    /// <summary>A dataset file or folder: the path itself, or the Hub snapshot folder of a dataset repository.</summary>
    public static string ResolveDataset(string pathOrId, Action<string>? log = null, HubEnvironment? env = null, Action<DownloadProgress>? progress = null) =>
        Resolve(pathOrId, HubRepoType.Dataset, log, env, progress);

    /// <summary>True when <paramref name="pathOrId"/> is not a local path and reads as a Hub repository id.</summary>
    public static bool IsHubId(string pathOrId, HubRepoType type) =>
        !File.Exists(pathOrId) && !Directory.Exists(pathOrId) && HubRepoId.TryParse(pathOrId, type) is not null;

    private static string Resolve(string pathOrId, HubRepoType type, Action<string>? log, HubEnvironment? env, Action<DownloadProgress>? progress)
    {
        ArgumentNullException.ThrowIfNull(pathOrId);
        if (!IsHubId(pathOrId, type)) return pathOrId;
        var repo = HubRepoId.TryParse(pathOrId, type)!;
        using var downloader = new HubDownloader(env ?? HubEnvironment.FromProcess(), log) { Progress = progress };
        string snapshot = downloader.Snapshot(repo);
        log?.Invoke($"{repo}: {snapshot}");
        return snapshot;
    }
}
