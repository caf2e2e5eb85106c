using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace VlmTune.Hub;

/// <summary>
/// Resolves a Hub repository to a local snapshot folder, downloading what the cache lacks, with huggingface_hub's
/// protocol (file_download.py, _snapshot_download.py):
/// <list type="number">
/// <item>GET {endpoint}/api/{models|datasets}/{id}/revision/{rev} → the commit (<c>sha</c>) and file list (<c>siblings[].rfilename</c>);
///   refs/{rev} is written with the commit.</item>
/// <item>per file not yet in snapshots/{commit}/: HEAD {endpoint}/[datasets/]{id}/resolve/{commit}/{file} without following
///   absolute redirects (relative ones are followed: renamed repositories) → <see cref="HubFileMetadata"/>.</item>
/// <item>GET the location into blobs/{etag}.incomplete with <c>Range: bytes={have}-</c> when part of it is there already;
///   a dropped connection resumes (5 tries); the size and the etag's hash (sha256, or git's blob sha1) are checked; then
///   the file is renamed to blobs/{etag} and linked from the snapshot.</item>
/// </list>
/// The token goes only to the endpoint's host, never to a redirect target (the CDN). With HF_HUB_OFFLINE nothing is
/// requested. When the endpoint cannot be reached and the revision is already cached, the cached snapshot is used.
/// </summary>
public sealed class HubDownloader : IDisposable
{
    private const int Tries = 5;
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(10);   // huggingface_hub's DEFAULT_ETAG_TIMEOUT
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(30);

    private readonly HubEnvironment _env;
    private readonly HttpClient _http;
    private readonly Action<string> _log;

    public HubDownloader(HubEnvironment env, Action<string>? log = null, HttpMessageHandler? handler = null)
    {
        _env = env ?? throw new ArgumentNullException(nameof(env));
        _log = log ?? (_ => { });
        _http = new HttpClient(handler ?? new SocketsHttpHandler
        {
            AllowAutoRedirect = false, ConnectTimeout = MetadataTimeout, AutomaticDecompression = DecompressionMethods.None,
        }) { Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("vlmtune/1.0");
        Cache = new HfCache(env.CacheDir);
    }

    public HfCache Cache { get; }

    /// <summary>Called while bytes arrive (at most every 64 KiB and at the end of each file).</summary>
    public Action<DownloadProgress>? Progress { get; set; }

    /// <summary>The snapshot folder of <paramref name="repo"/>: from the cache, downloaded first where needed.</summary>
    public string Snapshot(HubRepoId repo, CancellationToken cancel = default) => SnapshotAsync(repo, cancel).GetAwaiter().GetResult();

    public async Task<string> SnapshotAsync(HubRepoId repo, CancellationToken cancel = default)
    {
        string? cached = Cache.FindSnapshot(repo);
        if (_env.Offline)
            return cached ?? throw new HubException(
                $"{repo}: HF_HUB_OFFLINE is set and the {Kind(repo)} is not in the Hugging Face cache {Cache.Root} " +
                $"(looked for {Path.Combine(repo.CacheFolderName, repo.IsCommit ? "snapshots" : "refs", repo.Revision)}); " +
                "download it first or unset HF_HUB_OFFLINE");
        (string commit, List<string> files) info;
        try
        {
            info = await RepoInfoAsync(repo, cancel);
        }
        catch (HttpRequestException e) when (cached is not null)
        {
            _log($"warning: {_env.Endpoint} cannot be reached ({e.Message}); using the cached snapshot {cached}");
            return cached;
        }
        var (commitHash, fileList) = info;
        Cache.WriteRef(repo, repo.Revision, commitHash);
        var missing = fileList.Where(f => !File.Exists(Cache.PointerPath(repo, commitHash, f))).ToList();
        if (missing.Count > 0) _log($"{repo}: downloading {missing.Count} of {fileList.Count} files at {commitHash[..12]} into {Cache.RepoFolder(repo)}");
        for (int i = 0; i < missing.Count; i++) await DownloadFileAsync(repo, commitHash, missing[i], i, missing.Count, cancel);
        string snapshot = Cache.SnapshotFolder(repo, commitHash);
        Directory.CreateDirectory(snapshot);
        return snapshot;
    }

    /// <summary>The commit and the file list of the revision (the Hub's /api/.../revision/ endpoint).</summary>
    public async Task<(string Commit, List<string> Files)> RepoInfoAsync(HubRepoId repo, CancellationToken cancel = default)
    {
        var url = new Uri($"{_env.Endpoint}/api/{(repo.Type == HubRepoType.Model ? "models" : "datasets")}/{repo.Id}/revision/{Uri.EscapeDataString(repo.Revision)}");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(MetadataTimeout);
        using var response = await SendAsync(HttpMethod.Get, url, null, followAbsolute: true, timeout.Token);
        ThrowForStatus(response, repo, null);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancel));
        var root = doc.RootElement;
        if (!root.TryGetProperty("sha", out var sha) || sha.GetString() is not { } commit || !HubRepoId.IsCommitHash(commit))
            throw new HubException($"{repo}: the Hub's answer from {url} has no commit \"sha\"");
        var files = new List<string>();
        if (root.TryGetProperty("siblings", out var siblings))
            foreach (var s in siblings.EnumerateArray())
                if (s.TryGetProperty("rfilename", out var name) && name.GetString() is { Length: > 0 } n) files.Add(n);
        return (commit, files);
    }

    /// <summary>HEAD on the file's /resolve/ URL (see <see cref="HubFileMetadata"/>).</summary>
    public async Task<HubFileMetadata> FileMetadataAsync(HubRepoId repo, string commit, string file, CancellationToken cancel = default)
    {
        var url = ResolveUrl(repo, commit, file);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        timeout.CancelAfter(MetadataTimeout);
        using var response = await SendAsync(HttpMethod.Head, url, null, followAbsolute: false, timeout.Token);
        bool redirect = (int)response.StatusCode is >= 300 and <= 399;
        if (!redirect) ThrowForStatus(response, repo, file);
        string? Header(string name) => response.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault()
            : response.Content.Headers.TryGetValues(name, out var c) ? c.FirstOrDefault() : null;
        string etag = HubFileMetadata.NormalizeEtag(Header("X-Linked-Etag") ?? Header("ETag")
            ?? throw new HubException($"{repo}: {file}: the Hub sent no ETag (is {_env.Endpoint} a Hugging Face endpoint?)"));
        string size = Header("X-Linked-Size") ?? Header("Content-Length")
            ?? throw new HubException($"{repo}: {file}: the Hub sent no size (X-Linked-Size / Content-Length)");
        var location = redirect && response.Headers.Location is { } l ? (l.IsAbsoluteUri && !l.IsFile ? l : new Uri(url, l.OriginalString)) : url;
        return new HubFileMetadata(Header("X-Repo-Commit") ?? commit, etag, long.Parse(size, System.Globalization.CultureInfo.InvariantCulture), location);
    }

    private async Task DownloadFileAsync(HubRepoId repo, string commit, string file, int index, int count, CancellationToken cancel)
    {
        var meta = await FileMetadataAsync(repo, commit, file, cancel);
        string blob = Cache.BlobPath(repo, meta.Etag);
        if (!File.Exists(blob))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            string incomplete = blob + ".incomplete";
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    await FetchAsync(meta, incomplete, file, index, count, cancel);
                    break;
                }
                catch (Exception e) when (e is IOException or HttpRequestException or TaskCanceledException && !cancel.IsCancellationRequested)
                {
                    long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
                    if (attempt == Tries)
                        throw new HubException($"{repo}: {file}: download failed {Tries} times ({e.Message}); {have} of {meta.Size} bytes " +
                                               $"are kept in {incomplete} and the next run resumes from there", e);
                    _log($"{repo}: {file}: connection lost at {have} of {meta.Size} bytes ({e.Message}); resuming");
                }
            }
            Verify(repo, file, meta, incomplete);
            File.Move(incomplete, blob, overwrite: true);
        }
        Cache.LinkPointer(repo, commit, file, meta.Etag);
    }

    /// <summary>One GET into <paramref name="incomplete"/>, continuing from its current length.</summary>
    private async Task FetchAsync(HubFileMetadata meta, string incomplete, string file, int index, int count, CancellationToken cancel)
    {
        long have = File.Exists(incomplete) ? new FileInfo(incomplete).Length : 0;
        if (have > meta.Size) { File.Delete(incomplete); have = 0; }
        if (have == meta.Size && meta.Size > 0) return;
        using var stall = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        stall.CancelAfter(StallTimeout);
        using var response = await SendAsync(HttpMethod.Get, meta.Location, have > 0 ? have : null, followAbsolute: true, stall.Token);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) { File.Delete(incomplete); throw new IOException("the server refused the resume range; starting over"); }
        if (!response.IsSuccessStatusCode) throw new HubException($"{file}: GET {meta.Location} answered {(int)response.StatusCode} {response.ReasonPhrase}");
        bool append = have > 0 && response.StatusCode == HttpStatusCode.PartialContent;
        if (!append) have = 0;   // the server ignored the range: start over
        await using var body = await response.Content.ReadAsStreamAsync(stall.Token);
        await using var output = new FileStream(incomplete, append ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await body.ReadAsync(buffer, stall.Token)) > 0)
        {
            await output.WriteAsync(buffer.AsMemory(0, read), cancel);
            have += read;
            stall.CancelAfter(StallTimeout);
            Progress?.Invoke(new DownloadProgress(file, have, meta.Size, index, count));
        }
        if (have < meta.Size) throw new IOException($"the connection closed after {have} of {meta.Size} bytes");
    }

    /// <summary>Size and content hash against the Hub's metadata; a bad file is deleted, never moved into blobs/.</summary>
    private static void Verify(HubRepoId repo, string file, HubFileMetadata meta, string path)
    {
        long size = new FileInfo(path).Length;
        string? problem = null;
        if (size != meta.Size) problem = $"{size} bytes, but the Hub says {meta.Size}";
        else if (meta.HashKind != "none")
        {
            string got = meta.HashKind == "sha256" ? Sha256(path) : GitBlobSha1(path, size);
            if (got != meta.Etag) problem = $"{meta.HashKind} {got}, but the Hub says {meta.Etag}";
        }
        if (problem is null) return;
        File.Delete(path);
        throw new HubException($"{repo}: {file}: the downloaded file is corrupt ({problem}); it was deleted, run again to download it anew");
    }

    private static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>git's object id of a blob: sha1("blob {size}\0" + content), the etag of non-LFS files.</summary>
    private static string GitBlobSha1(string path, long size)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        h.AppendData(System.Text.Encoding.ASCII.GetBytes($"blob {size}\0"));
        using var f = File.OpenRead(path);
        var buffer = new byte[1 << 16];
        int read;
        while ((read = f.Read(buffer)) > 0) h.AppendData(buffer, 0, read);
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

    private Uri ResolveUrl(HubRepoId repo, string commit, string file) =>
        new($"{_env.Endpoint}/{(repo.Type == HubRepoType.Dataset ? "datasets/" : "")}{repo.Id}/resolve/{commit}/" +
            string.Join('/', file.Split('/').Select(Uri.EscapeDataString)));

    /// <summary>
    /// Sends with redirects handled here: relative (same host) ones always, absolute ones only when
    /// <paramref name="followAbsolute"/>; the token is sent only to the endpoint's own host.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, Uri url, long? from, bool followAbsolute, CancellationToken cancel)
    {
        var endpointHost = new Uri(_env.Endpoint).Authority;
        for (int hop = 0; ; hop++)
        {
            using var request = new HttpRequestMessage(method, url);
            request.Headers.AcceptEncoding.ParseAdd("identity");
            if (_env.Token is { } token && url.Authority == endpointHost) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            if (from is long f) request.Headers.Range = new RangeHeaderValue(f, null);
            var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
            if ((int)response.StatusCode is < 300 or > 399 || response.Headers.Location is not { } location || hop == 10) return response;
            // Relative = no host in the Location (huggingface_hub: urlparse(location).netloc == ""); on Unix .NET may
            // read "/path" as a file URI, which is the same thing.
            bool relative = !location.IsAbsoluteUri || location.IsFile;
            if (!relative && !followAbsolute) return response;
            response.Dispose();
            url = relative ? new Uri(url, location.IsAbsoluteUri ? location.AbsolutePath : location.OriginalString) : location;
        }
    }

    private void ThrowForStatus(HttpResponseMessage response, HubRepoId repo, string? file)
    {
        if (response.IsSuccessStatusCode) return;
        string code = response.Headers.TryGetValues("X-Error-Code", out var v) ? v.First() : "";
        string what = file is null ? $"{repo}" : $"{repo}: {file}";
        string hint = code switch
        {
            "RepoNotFound" => $"no such {Kind(repo)} on {_env.Endpoint}, or it is private (set HF_TOKEN)",
            "RevisionNotFound" => $"no revision \"{repo.Revision}\"",
            "EntryNotFound" => "no such file at this revision",
            "GatedRepo" => "the repository is gated: accept its terms on the Hub and set HF_TOKEN",
            _ when response.StatusCode == HttpStatusCode.Unauthorized => $"not found or private (HF_TOKEN {(_env.Token is null ? "is not set" : "was refused")})",
            _ => "",
        };
        throw new HubException($"{what}: {_env.Endpoint} answered {(int)response.StatusCode} {response.ReasonPhrase}{(hint.Length > 0 ? ": " + hint : "")}");
    }

    private static string Kind(HubRepoId repo) => repo.Type == HubRepoType.Model ? "model" : "dataset";

    public void Dispose() => _http.Dispose();
}
