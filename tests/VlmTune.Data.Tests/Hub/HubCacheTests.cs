using VlmTune.Data.Tests.Support;
using VlmTune.Hub;

namespace VlmTune.Data.Tests.Hub;

/// <summary>The cache layout huggingface_hub writes (built here by hand as `huggingface-cli download` leaves it).</summary>
public sealed class HubCacheTests
{
    private const string Main = "0123456789abcdef0123456789abcdef01234567";
    private const string Tagged = "89abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public void Environment_follows_huggingface_hub_precedence()
    {
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        HubEnvironment Env(params (string K, string V)[] vars) => HubEnvironment.FromVariables(k => vars.FirstOrDefault(v => v.K == k).V);
        Assert.Equal(Path.Combine(home, ".cache", "huggingface", "hub"), Env().CacheDir);
        Assert.Equal(Path.Combine("/x", "huggingface", "hub"), Env(("XDG_CACHE_HOME", "/x")).CacheDir);
        Assert.Equal(Path.Combine("/h", "hub"), Env(("XDG_CACHE_HOME", "/x"), ("HF_HOME", "/h")).CacheDir);
        Assert.Equal("/c", Env(("HF_HOME", "/h"), ("HF_HUB_CACHE", "/c")).CacheDir);
        Assert.Equal("https://huggingface.co", Env().Endpoint);
        Assert.Equal("http://127.0.0.1:9", Env(("HF_ENDPOINT", "http://127.0.0.1:9/")).Endpoint);
        foreach (var on in new[] { "1", "ON", "yes", "True" }) Assert.True(Env(("HF_HUB_OFFLINE", on)).Offline);
        foreach (var off in new[] { "0", "false", "" }) Assert.False(Env(("HF_HUB_OFFLINE", off)).Offline);
        Assert.Equal("hf_abc", Env(("HF_TOKEN", "hf_abc")).Token);
    }

    [Fact]
    public void Token_file_under_HF_HOME_is_read()
    {
        using var dir = new TempDataset();
        File.WriteAllText(Path.Combine(dir.Dir, "token"), "hf_from_file\n");
        var env = HubEnvironment.FromVariables(k => k == "HF_HOME" ? dir.Dir : null);
        Assert.Equal("hf_from_file", env.Token);
    }

    [Theory]
    [InlineData("HuggingFaceTB/SmolVLM-256M-Instruct", "HuggingFaceTB/SmolVLM-256M-Instruct", "main")]
    [InlineData("org/name@v1.0", "org/name", "v1.0")]
    [InlineData("Qwen/Qwen2.5-VL-3B@refs/pr/1", "Qwen/Qwen2.5-VL-3B", "refs/pr/1")]
    public void Ids_parse(string text, string id, string revision)
    {
        var repo = HubRepoId.TryParse(text, HubRepoType.Model)!;
        Assert.Equal((id, revision), (repo.Id, repo.Revision));
        Assert.Equal("models--" + id.Replace("/", "--"), repo.CacheFolderName);
    }

    [Theory]
    [InlineData("data/train.jsonl")]
    [InlineData("runs/x/checkpoint.safetensors")]
    [InlineData("/abs/path")]
    [InlineData("single")]
    [InlineData("a/b/c")]
    [InlineData("org/na--me")]
    public void Paths_are_not_ids(string text) => Assert.Null(HubRepoId.TryParse(text, HubRepoType.Model));

    [Fact]
    public void Revisions_resolve_through_refs_and_commits()
    {
        using var dir = new TempDataset();
        var cache = new HfCache(dir.Dir);
        MakeCached(dir.Dir, "models--org--tiny", ("main", Main), ("v1", Tagged));
        string Snap(string text) => cache.FindSnapshot(HubRepoId.TryParse(text, HubRepoType.Model)!)!;
        Assert.Equal(Path.Combine(dir.Dir, "models--org--tiny", "snapshots", Main), Snap("org/tiny"));
        Assert.Equal(Path.Combine(dir.Dir, "models--org--tiny", "snapshots", Tagged), Snap("org/tiny@v1"));
        Assert.Equal(Path.Combine(dir.Dir, "models--org--tiny", "snapshots", Tagged), Snap($"org/tiny@{Tagged}"));
        Assert.Equal("{\"tag\":\"" + Tagged + "\"}", File.ReadAllText(Path.Combine(Snap("org/tiny@v1"), "config.json")));
        Assert.Null(cache.FindSnapshot(HubRepoId.TryParse("org/tiny@v2", HubRepoType.Model)!));
        Assert.Null(cache.FindSnapshot(HubRepoId.TryParse("org/other", HubRepoType.Model)!));
        Assert.Null(cache.FindSnapshot(HubRepoId.TryParse("org/tiny", HubRepoType.Dataset)!));   // datasets--org--tiny
    }

    [Fact]
    public void Offline_uses_the_cache_and_never_the_network()
    {
        using var dir = new TempDataset();
        MakeCached(dir.Dir, "models--org--tiny", ("main", Main));
        using var hub = new LoopbackHub("org/tiny", Main, new() { ["config.json"] = [1] });
        var env = new HubEnvironment { CacheDir = dir.Dir, Endpoint = hub.Endpoint, Offline = true };
        Assert.Equal(Path.Combine(dir.Dir, "models--org--tiny", "snapshots", Main), HubLocator.ResolveModel("org/tiny", env: env));
        var e = Assert.Throws<HubException>(() => HubLocator.ResolveModel("org/tiny@v9", env: env));
        Assert.Contains("HF_HUB_OFFLINE is set", e.Message);
        Assert.Contains("refs/v9", e.Message.Replace('\\', '/'));
        Assert.Empty(hub.Log);
    }

    [Fact]
    public void A_local_folder_wins_over_an_id()
    {
        using var dir = new TempDataset();
        string local = Path.Combine(dir.Dir, "org", "tiny");
        Directory.CreateDirectory(local);
        string cwd = Environment.CurrentDirectory;
        Assert.Equal(local, HubLocator.ResolveModel(local, env: new HubEnvironment { CacheDir = dir.Dir, Offline = true }));
        Assert.Equal(cwd, Environment.CurrentDirectory);
    }

    /// <summary>refs/{rev} → commit, snapshots/{commit}/config.json → ../../blobs/{sha1} (as huggingface_hub writes it).</summary>
    internal static void MakeCached(string root, string folder, params (string Ref, string Commit)[] refs)
    {
        foreach (var (name, commit) in refs)
        {
            string repo = Path.Combine(root, folder);
            Directory.CreateDirectory(Path.Combine(repo, "refs"));
            File.WriteAllText(Path.Combine(repo, "refs", name), commit);
            byte[] content = System.Text.Encoding.UTF8.GetBytes("{\"tag\":\"" + commit + "\"}");
            string blob = Path.Combine(repo, "blobs", LoopbackHub.GitSha1(content));
            Directory.CreateDirectory(Path.GetDirectoryName(blob)!);
            File.WriteAllBytes(blob, content);
            string snap = Path.Combine(repo, "snapshots", commit);
            Directory.CreateDirectory(snap);
            string pointer = Path.Combine(snap, "config.json");
            if (!File.Exists(pointer)) File.CreateSymbolicLink(pointer, Path.Combine("..", "..", "blobs", LoopbackHub.GitSha1(content)));
        }
    }
}
