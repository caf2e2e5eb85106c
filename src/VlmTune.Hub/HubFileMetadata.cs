namespace VlmTune.Hub;

/// <summary>
/// What a HEAD on /resolve/ says about one file (huggingface_hub's get_hf_file_metadata): the commit
/// (X-Repo-Commit), the etag (X-Linked-Etag for LFS files, else ETag; quotes and W/ removed), the size (X-Linked-Size,
/// else Content-Length) and where to GET the bytes (the Location of an absolute redirect, else the URL itself).
/// </summary>
public sealed record HubFileMetadata(string Commit, string Etag, long Size, Uri Location)
{
    /// <summary>How the etag checks the content: sha256 (LFS, 64 hex), git blob sha1 (40 hex), or none.</summary>
    public string HashKind => Etag.Length == 64 && Etag.All(char.IsAsciiHexDigitLower) ? "sha256"
        : Etag.Length == 40 && Etag.All(char.IsAsciiHexDigitLower) ? "git-sha1" : "none";

    public static string NormalizeEtag(string etag)
    {
        string e = etag.Trim();
        if (e.StartsWith("W/", StringComparison.Ordinal)) e = e[2..];
        return e.Trim('"');
    }
}
