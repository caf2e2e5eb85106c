namespace VlmTune.Processing;

/// <summary>The text has a different number of &lt;image&gt; placeholders than images were given.</summary>
public sealed class ImageTokenMismatchException : Exception
{
    public int PlaceholderCount { get; }
    public int ImageCount { get; }

    public ImageTokenMismatchException(int placeholderCount, int imageCount)
        : base($"the prompt has {placeholderCount} <image> placeholder(s) but {imageCount} image(s) were given; " +
               "each image needs exactly one <image> in the text")
    {
        PlaceholderCount = placeholderCount;
        ImageCount = imageCount;
    }
}
