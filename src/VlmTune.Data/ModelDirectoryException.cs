namespace VlmTune.Data;

/// <summary>A model processing directory is missing a file, or a file in it is malformed. The message names the file.</summary>
public sealed class ModelDirectoryException : Exception
{
    /// <summary>The file (or folder) at fault.</summary>
    public string Path { get; }

    public ModelDirectoryException(string path, string problem, Exception? inner = null)
        : base($"{path}: {problem}", inner)
    {
        Path = path;
    }
}
