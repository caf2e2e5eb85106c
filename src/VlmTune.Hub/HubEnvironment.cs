namespace VlmTune.Hub;

/// <summary>
/// The huggingface_hub environment variables, resolved as that library does (constants.py):
/// cache = <c>$HF_HUB_CACHE</c>, else <c>$HF_HOME/hub</c>, else <c>$XDG_CACHE_HOME/huggingface/hub</c>, else
/// <c>~/.cache/huggingface/hub</c>; endpoint = <c>$HF_ENDPOINT</c> (default https://huggingface.co); token =
/// <c>$HF_TOKEN</c>, else the file <c>$HF_TOKEN_PATH</c> or <c>$HF_HOME/token</c>; offline when
/// <c>$HF_HUB_OFFLINE</c> is 1/ON/YES/TRUE.
/// </summary>
public sealed record HubEnvironment
{
    public const string DefaultEndpoint = "https://huggingface.co";

    public required string CacheDir { get; init; }
    public string Endpoint { get; init; } = DefaultEndpoint;
    public string? Token { get; init; }
    public bool Offline { get; init; }

    /// <summary>From the process environment.</summary>
    public static HubEnvironment FromProcess() => FromVariables(Environment.GetEnvironmentVariable);

    /// <summary>From any variable lookup (tests pass a dictionary).</summary>
    public static HubEnvironment FromVariables(Func<string, string?> get)
    {
        string? Value(string name) => get(name) is { Length: > 0 } v ? v : null;
        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string xdg = Value("XDG_CACHE_HOME") ?? Path.Combine(home, ".cache");
        string hfHome = Expand(Value("HF_HOME"), home) ?? Path.Combine(xdg, "huggingface");
        string cache = Expand(Value("HF_HUB_CACHE") ?? Value("HUGGINGFACE_HUB_CACHE"), home) ?? Path.Combine(hfHome, "hub");
        string? token = Value("HF_TOKEN") ?? Value("HUGGING_FACE_HUB_TOKEN");
        if (token is null)
        {
            string tokenFile = Expand(Value("HF_TOKEN_PATH"), home) ?? Path.Combine(hfHome, "token");
            if (File.Exists(tokenFile)) token = File.ReadAllText(tokenFile).Trim() is { Length: > 0 } t ? t : null;
        }
        return new HubEnvironment
        {
            CacheDir = cache,
            Endpoint = (Value("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'),
            Token = token,
            Offline = IsTrue(Value("HF_HUB_OFFLINE")),
        };
    }

    private static bool IsTrue(string? v) => v is not null && v.Trim().ToUpperInvariant() is "1" or "ON" or "YES" or "TRUE";

    private static string? Expand(string? path, string home) =>
        path is null ? null : path == "~" ? home : path.StartsWith("~/", StringComparison.Ordinal) ? Path.Combine(home, path[2..]) : path;
}
