using VlmTune.Data.Tests.Support;
using VlmTune.Hub;

namespace VlmTune.Data.Tests.Hub;

/// <summary>Downloads from a loopback server that speaks the Hub's protocol (see <see cref="LoopbackHub"/>).</summary>
public sealed class HubDownloaderTests
{
    private const string Commit = "fedcba9876543210fedcba9876543210fedcba98";

    private static Dictionary<string, byte[]> Files()
    {
        var weights = new byte[300_000];
        new Random(7).NextBytes(weights);
        return new()
        {
            ["config.json"] = System.Text.Encoding.UTF8.GetBytes("{\"architectures\":[\"Idefics3ForConditionalGeneration\"]}"),
            ["model.safetensors"] = weights,
            ["sub/tokenizer.json"] = System.Text.Encoding.UTF8.GetBytes("{\"model\":{}}"),
        };
    }

    private static (TempDataset Dir, LoopbackHub Hub, HubDownloader Downloader, HubRepoId Repo, List<string> Log) Setup()
    {
        var dir = new TempDataset();
        var hub = new LoopbackHub("org/tiny", Commit, Files(), "model.safetensors");
        var log = new List<string>();
        var downloader = new HubDownloader(new HubEnvironment { CacheDir = dir.Dir, Endpoint = hub.Endpoint, Token = "hf_test" }, log.Add);
        return (dir, hub, downloader, HubRepoId.TryParse("org/tiny", HubRepoType.Model)!, log);
    }

    [Fact]
    public void Snapshot_lands_in_the_huggingface_hub_layout()
    {
        var (dir, hub, downloader, repo, _) = Setup();
        using (dir) using (hub) using (downloader)
        {
            var progress = new List<DownloadProgress>();
            downloader.Progress = progress.Add;
            string snap = downloader.Snapshot(repo);
            string folder = Path.Combine(dir.Dir, "models--org--tiny");
            Assert.Equal(Path.Combine(folder, "snapshots", Commit), snap);
            Assert.Equal(Commit, File.ReadAllText(Path.Combine(folder, "refs", "main")));
            foreach (var (name, bytes) in Files())
            {
                string pointer = Path.Combine(snap, name);
                Assert.Equal(bytes, File.ReadAllBytes(pointer));
                string etag = name == "model.safetensors" ? LoopbackHub.Sha256(bytes) : LoopbackHub.GitSha1(bytes);
                Assert.True(File.Exists(Path.Combine(folder, "blobs", etag)), name);
                string target = new FileInfo(pointer).LinkTarget!;
                Assert.False(Path.IsPathRooted(target));
                Assert.EndsWith(Path.Combine("blobs", etag), target);
            }
            Assert.Empty(Directory.GetFiles(Path.Combine(folder, "blobs"), "*.incomplete"));
            Assert.Equal(300_000, progress.Last(p => p.File == "model.safetensors").Done);
            Assert.Contains(hub.Log, l => l.StartsWith("HEAD /org/tiny/resolve/" + Commit + "/sub/tokenizer.json", StringComparison.Ordinal));
            Assert.Contains(hub.Log, l => l.StartsWith("GET /api/models/org/tiny/revision/main", StringComparison.Ordinal) && l.EndsWith("auth=Bearer hf_test", StringComparison.Ordinal));

            // Everything cached: one API call, no file requests.
            int before = hub.Log.Count;
            Assert.Equal(snap, downloader.Snapshot(repo));
            Assert.Single(hub.Log.Skip(before));
        }
    }

    [Fact]
    public void A_dropped_connection_resumes_with_a_range_request()
    {
        var (dir, hub, downloader, repo, log) = Setup();
        using (dir) using (hub) using (downloader)
        {
            hub.CutAfter["model.safetensors"] = 120_000;
            string snap = downloader.Snapshot(repo);
            Assert.Equal(Files()["model.safetensors"], File.ReadAllBytes(Path.Combine(snap, "model.safetensors")));
            var gets = hub.Log.Where(l => l.StartsWith("GET /cdn/", StringComparison.Ordinal)).ToList();
            Assert.Equal(2, gets.Count);
            Assert.Contains("range=-", gets[0]);
            Assert.Contains("range=bytes=120000-", gets[1]);
            Assert.Contains(log, l => l.Contains("connection lost at 120000 of 300000 bytes", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void A_partial_file_from_an_earlier_run_is_resumed()
    {
        var (dir, hub, downloader, repo, _) = Setup();
        using (dir) using (hub) using (downloader)
        {
            byte[] weights = Files()["model.safetensors"];
            string blobs = Path.Combine(dir.Dir, "models--org--tiny", "blobs");
            Directory.CreateDirectory(blobs);
            File.WriteAllBytes(Path.Combine(blobs, LoopbackHub.Sha256(weights) + ".incomplete"), weights[..77_777]);
            string snap = downloader.Snapshot(repo);
            Assert.Equal(weights, File.ReadAllBytes(Path.Combine(snap, "model.safetensors")));
            Assert.Contains(hub.Log, l => l.StartsWith("GET /cdn/", StringComparison.Ordinal) && l.Contains("range=bytes=77777-", StringComparison.Ordinal));
        }
    }

    [Theory]
    [InlineData("model.safetensors", "sha256")]
    [InlineData("config.json", "git-sha1")]
    public void A_corrupted_file_is_refused_and_removed(string file, string hash)
    {
        var (dir, hub, downloader, repo, _) = Setup();
        using (dir) using (hub) using (downloader)
        {
            hub.Corrupt.Add(file);
            var e = Assert.Throws<HubException>(() => downloader.Snapshot(repo));
            Assert.Contains($"org/tiny: {file}: the downloaded file is corrupt ({hash} ", e.Message);
            string folder = Path.Combine(dir.Dir, "models--org--tiny");
            Assert.False(File.Exists(Path.Combine(folder, "snapshots", Commit, file)));
            Assert.Empty(Directory.GetFiles(Path.Combine(folder, "blobs"), "*.incomplete"));
            string etag = file == "config.json" ? LoopbackHub.GitSha1(Files()[file]) : LoopbackHub.Sha256(Files()[file]);
            Assert.False(File.Exists(Path.Combine(folder, "blobs", etag)));
        }
    }

    [Fact]
    public void A_missing_repository_names_itself()
    {
        using var dir = new TempDataset();
        using var hub = new LoopbackHub("org/tiny", Commit, Files());
        using var downloader = new HubDownloader(new HubEnvironment { CacheDir = dir.Dir, Endpoint = hub.Endpoint });
        var e = Assert.Throws<HubException>(() => downloader.Snapshot(HubRepoId.TryParse("org/absent", HubRepoType.Model)!));
        Assert.Contains("org/absent", e.Message);
        Assert.Contains("404", e.Message);
        Assert.Contains("set HF_TOKEN", e.Message);
    }
}
