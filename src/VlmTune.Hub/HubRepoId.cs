using System.Text.RegularExpressions;

namespace VlmTune.Hub;

/// <summary>
/// A Hub repository named as users write it: <c>org/name</c> or <c>org/name@revision</c> (a branch, a tag or a
/// 40-hex commit; default <c>main</c>). The cache folder is <c>{models|datasets}--org--name</c>.
/// </summary>
public sealed partial record HubRepoId(HubRepoType Type, string Id, string Revision)
{
    public const string DefaultRevision = "main";

    // huggingface_hub's repo-id rule: letters, digits, '-', '_', '.'; no leading/trailing '-' or '.', no '--' or '..'.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}$")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"^[0-9a-f]{40}$")]
    private static partial Regex CommitPattern();

    // A name with one of these endings is a local file that is missing, never a repository.
    private static readonly string[] FileEndings = [".jsonl", ".json", ".parquet", ".yaml", ".yml", ".txt", ".safetensors"];

    /// <summary>True for a 40-hex commit hash (what snapshots/ is keyed by).</summary>
    public bool IsCommit => IsCommitHash(Revision);

    /// <summary>The cache folder name: <c>models--org--name</c> or <c>datasets--org--name</c>.</summary>
    public string CacheFolderName => $"{(Type == HubRepoType.Model ? "models" : "datasets")}--{Id.Replace("/", "--", StringComparison.Ordinal)}";

    public override string ToString() => Revision == DefaultRevision ? Id : $"{Id}@{Revision}";

    public static bool IsCommitHash(string revision) => CommitPattern().IsMatch(revision);

    /// <summary>Parses <c>org/name[@revision]</c>; null when <paramref name="text"/> does not have that shape.</summary>
    public static HubRepoId? TryParse(string text, HubRepoType type)
    {
        ArgumentNullException.ThrowIfNull(text);
        int at = text.IndexOf('@', StringComparison.Ordinal);
        string id = at < 0 ? text : text[..at];
        string revision = at < 0 ? DefaultRevision : text[(at + 1)..];
        if (!IdPattern().IsMatch(id) || id.Contains("--", StringComparison.Ordinal) || id.Contains("..", StringComparison.Ordinal)) return null;
        if (id.EndsWith('.') || id.EndsWith('-') || id.Split('/')[1].EndsWith('.')) return null;
        if (FileEndings.Any(e => id.EndsWith(e, StringComparison.OrdinalIgnoreCase))) return null;
        if (revision.Length == 0 || revision.Any(char.IsWhiteSpace) || revision.Contains("..", StringComparison.Ordinal)) return null;
        return new HubRepoId(type, id, revision);
    }
}
