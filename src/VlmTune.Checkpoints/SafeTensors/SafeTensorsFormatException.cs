namespace VlmTune.Checkpoints.SafeTensors;

/// <summary>
/// A safetensors file (or a sharded checkpoint's index) breaks the format. The message always names the file and
/// either the offending tensor or "header"; <see cref="FilePath"/> and <see cref="TensorName"/> carry the same facts
/// for programs.
/// </summary>
public sealed class SafeTensorsFormatException : Exception
{
    /// <summary>The file that is malformed (a .safetensors file or a model.safetensors.index.json).</summary>
    public string FilePath { get; }

    /// <summary>The tensor the problem belongs to, or null when it concerns the header as a whole.</summary>
    public string? TensorName { get; }

    /// <summary>What is wrong, without the file/tensor prefix.</summary>
    public string Detail { get; }

    public SafeTensorsFormatException(string filePath, string? tensorName, string detail, Exception? inner = null)
        : base(Format(filePath, tensorName, detail), inner)
    {
        FilePath = filePath;
        TensorName = tensorName;
        Detail = detail;
    }

    private static string Format(string filePath, string? tensorName, string detail) =>
        tensorName is null
            ? $"{filePath}: header: {detail}"
            : $"{filePath}: tensor '{tensorName}': {detail}";
}
