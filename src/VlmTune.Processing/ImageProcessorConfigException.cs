namespace VlmTune.Processing;

/// <summary>A preprocessor_config.json / processor_config.json that cannot be used: names the file and the field.</summary>
public sealed class ImageProcessorConfigException : Exception
{
    public string SourceName { get; }
    public string Field { get; }

    public ImageProcessorConfigException(string source, string field, string message, Exception? inner = null)
        : base($"{source}: field '{field}': {message}", inner)
    {
        SourceName = source;
        Field = field;
    }
}
