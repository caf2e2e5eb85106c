using VlmTune.Hub;

namespace VlmTune.Cli;

/// <summary>
/// `--model` / `model.path` as a Hub id (org/name[@revision]): the checkpoint folder in the Hugging Face cache,
/// downloaded first when missing, with a progress line per file on stderr. A local path is returned unchanged.
/// </summary>
public static class HubModels
{
    public static string Resolve(string pathOrId, Action<string>? log = null)
    {
        log ??= m => Console.Error.WriteLine(m);
        if (!HubLocator.IsHubId(pathOrId, HubRepoType.Model)) return pathOrId;
        int lastTenth = -1;
        string lastFile = "";
        void Progress(DownloadProgress p)
        {
            int tenth = p.Total == 0 ? 10 : (int)(p.Done * 10 / p.Total);
            if (p.File == lastFile && tenth == lastTenth) return;
            (lastFile, lastTenth) = (p.File, tenth);
            log($"  [{p.Index + 1}/{p.Count}] {p.File}: {tenth * 10}% of {p.Total / 1e6:F1} MB");
        }
        try
        {
            return HubLocator.ResolveModel(pathOrId, log, progress: Progress);
        }
        catch (HubException e)
        {
            throw new UserErrorException($"{pathOrId} is not a local folder, and as a Hub id: {e.Message}");
        }
    }
}
