namespace VlmTune.Tokenizers;

/// <summary>
/// A tokenizer.json that cannot be loaded: malformed JSON, a missing or mistyped field, or a component
/// VlmTune does not implement. The message names the file and the JSON path of the offending field.
/// </summary>
public sealed class TokenizerFormatException : Exception
{
    public TokenizerFormatException(string file, string jsonPath, string problem, Exception? inner = null)
        : base($"{file}: {jsonPath}: {problem}", inner)
    {
        File = file;
        JsonPath = jsonPath;
        Problem = problem;
    }

    /// <summary>The file that failed to load.</summary>
    public string File { get; }

    /// <summary>JSON path of the field, e.g. <c>$.model.merges[12]</c>; <c>$</c> for the whole document.</summary>
    public string JsonPath { get; }

    /// <summary>What is wrong with the field, without the file and path prefix.</summary>
    public string Problem { get; }
}
