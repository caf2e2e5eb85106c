using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace VlmTune.Data.Tests.Hub;

/// <summary>
/// A minimal Hugging Face Hub on 127.0.0.1 (an ephemeral port), answering as the Hub does for the requests
/// huggingface_hub makes: GET /api/models/{id}/revision/{rev} (sha + siblings), HEAD /{id}/resolve/{rev}/{file}
/// (small files: 200 with ETag = git blob sha1; LFS files: 302 to /cdn/{sha256} with X-Linked-Etag, X-Linked-Size,
/// X-Repo-Commit), GET of either with Range support. One request per connection; stops on dispose. Hooks let a test
/// cut a body short (<see cref="CutAfter"/>) or serve wrong bytes (<see cref="Corrupt"/>).
/// </summary>
internal sealed class LoopbackHub : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Dictionary<string, byte[]> _files;
    private readonly HashSet<string> _lfs;

    public LoopbackHub(string repoId, string commit, Dictionary<string, byte[]> files, params string[] lfsFiles)
    {
        RepoId = repoId;
        Commit = commit;
        _files = files;
        _lfs = [.. lfsFiles];
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string RepoId { get; }
    public string Commit { get; }
    public string Endpoint => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
    /// <summary>Every request line with its Range and Authorization headers, in order.</summary>
    public List<string> Log { get; } = [];
    /// <summary>File name → bytes after which the next GET of it drops the connection (used once).</summary>
    public Dictionary<string, int> CutAfter { get; } = [];
    /// <summary>Files whose GET body has one byte flipped (the metadata stays that of the good bytes).</summary>
    public HashSet<string> Corrupt { get; } = [];

    public static string Sha256(byte[] b) => Convert.ToHexStringLower(SHA256.HashData(b));

    public static string GitSha1(byte[] b) =>
        Convert.ToHexStringLower(SHA1.HashData([.. System.Text.Encoding.ASCII.GetBytes($"blob {b.Length}\0"), .. b]));

    private async Task Serve()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception) { return; }
            using (client)
            {
                try { await Handle(client.GetStream()); }
                catch (IOException) { }
            }
        }
    }

    private async Task Handle(NetworkStream stream)
    {
        stream.ReadTimeout = 5000;
        var reader = new StreamReader(stream, System.Text.Encoding.ASCII, false, 1024, leaveOpen: true);
        string? requestLine = await reader.ReadLineAsync();
        if (requestLine is null) return;
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? line;
        while (!string.IsNullOrEmpty(line = await reader.ReadLineAsync()))
        {
            int colon = line.IndexOf(':');
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        string[] parts = requestLine.Split(' ');
        string method = parts[0], path = Uri.UnescapeDataString(parts[1]);
        lock (Log) Log.Add($"{method} {path} range={headers.GetValueOrDefault("Range", "-")} auth={headers.GetValueOrDefault("Authorization", "-")}");

        string apiPrefix = $"/api/models/{RepoId}/revision/";
        string resolvePrefix = $"/{RepoId}/resolve/";
        if (method == "GET" && path.StartsWith(apiPrefix, StringComparison.Ordinal))
        {
            string siblings = string.Join(",", _files.Keys.Select(f => $"{{\"rfilename\":\"{f}\"}}"));
            await Respond(stream, 200, [], System.Text.Encoding.UTF8.GetBytes($"{{\"id\":\"{RepoId}\",\"sha\":\"{Commit}\",\"siblings\":[{siblings}]}}"), method);
            return;
        }
        if (path.StartsWith(resolvePrefix, StringComparison.Ordinal))
        {
            string rest = path[resolvePrefix.Length..];
            string file = rest[(rest.IndexOf('/') + 1)..];
            if (!_files.TryGetValue(file, out var bytes))
            {
                await Respond(stream, 404, [("X-Error-Code", "EntryNotFound")], [], method);
                return;
            }
            if (_lfs.Contains(file))
            {
                await Respond(stream, 302, [("Location", $"{Endpoint}/cdn/{Sha256(bytes)}"), ("X-Repo-Commit", Commit),
                    ("X-Linked-Etag", $"\"{Sha256(bytes)}\""), ("X-Linked-Size", bytes.Length.ToString())], [], method);
                return;
            }
            await Body(stream, file, bytes, headers, method, [("ETag", $"\"{GitSha1(bytes)}\""), ("X-Repo-Commit", Commit)]);
            return;
        }
        if (path.StartsWith("/cdn/", StringComparison.Ordinal))
        {
            var (file, bytes) = _files.First(kv => Sha256(kv.Value) == path[5..]);
            await Body(stream, file, bytes, headers, method, []);
            return;
        }
        await Respond(stream, 404, [("X-Error-Code", "RepoNotFound")], [], method);
    }

    private async Task Body(NetworkStream stream, string file, byte[] bytes, Dictionary<string, string> headers, string method,
        List<(string, string)> extra)
    {
        if (Corrupt.Contains(file)) { bytes = (byte[])bytes.Clone(); bytes[bytes.Length / 2] ^= 0xFF; }
        int from = headers.TryGetValue("Range", out var range) ? int.Parse(range["bytes=".Length..].TrimEnd('-')) : 0;
        var body = bytes[from..];
        if (from > 0) extra.Add(("Content-Range", $"bytes {from}-{bytes.Length - 1}/{bytes.Length}"));
        int? cut = null;
        if (method == "GET" && CutAfter.Remove(file, out int c)) cut = c - from;
        await Respond(stream, from > 0 ? 206 : 200, extra, body, method, cut);
    }

    private static async Task Respond(NetworkStream stream, int status, List<(string, string)> headers, byte[] body, string method, int? cut = null)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} {(status < 300 ? "OK" : status < 400 ? "Found" : "Not Found")}\r\n");
        foreach (var (k, v) in headers) head.Append($"{k}: {v}\r\n");
        head.Append($"Content-Length: {body.Length}\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(head.ToString()));
        if (method == "HEAD") return;
        await stream.WriteAsync(body.AsMemory(0, cut is int n ? Math.Min(n, body.Length) : body.Length));
        await stream.FlushAsync();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _loop.Wait(TimeSpan.FromSeconds(5)); } catch (AggregateException) { }
        _stop.Dispose();
    }
}
