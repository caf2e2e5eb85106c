namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>
/// A model config.json is unusable: malformed JSON, a value of the wrong type, an unsupported model_type, or values
/// that contradict each other. The message names the file and the JSON path (e.g. "$.text_config.hidden_size").
/// </summary>
public sealed class ConfigException : Exception
{
    public string FilePath { get; }

    /// <summary>JSONPath-style location of the offending value ("$" for the document itself).</summary>
    public string JsonPath { get; }

    public string Detail { get; }

    public ConfigException(string filePath, string jsonPath, string detail, Exception? inner = null)
        : base($"{filePath}: {jsonPath}: {detail}", inner)
    {
        FilePath = filePath;
        JsonPath = jsonPath;
        Detail = detail;
    }
}
