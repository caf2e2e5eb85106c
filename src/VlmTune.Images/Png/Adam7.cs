namespace VlmTune.Images.Png;

/// <summary>Adam7 interlacing: seven passes over the image, each a sub-grid with a start and a step.</summary>
internal static class Adam7
{
    //                                     pass: 1  2  3  4  5  6  7
    public static ReadOnlySpan<int> StartX => [0, 4, 0, 2, 0, 1, 0];
    public static ReadOnlySpan<int> StartY => [0, 0, 4, 0, 2, 0, 1];
    public static ReadOnlySpan<int> StepX => [8, 8, 4, 4, 2, 2, 1];
    public static ReadOnlySpan<int> StepY => [8, 8, 8, 4, 4, 2, 2];

    /// <summary>Size of pass <paramref name="p"/> (0-based) of a width × height image; either may be 0.</summary>
    public static (int Width, int Height) PassSize(int p, int width, int height) =>
        (Count(width, StartX[p], StepX[p]), Count(height, StartY[p], StepY[p]));

    private static int Count(int size, int start, int step) => size <= start ? 0 : (size - start + step - 1) / step;
}
