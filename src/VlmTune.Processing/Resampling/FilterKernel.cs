namespace VlmTune.Processing.Resampling;

/// <summary>
/// The continuous filter functions of Pillow's libImaging/Resample.c (Pillow 9.4 behaviour): support radius at
/// scale 1 and weight at offset x (in source pixels, already divided by the filter scale). Doubles throughout,
/// evaluated in the same order as the C code so that the weights round identically.
/// </summary>
internal static class FilterKernel
{
    public static double Support(ResampleFilter filter) => filter switch
    {
        ResampleFilter.Box => 0.5,
        ResampleFilter.Bilinear => 1.0,
        ResampleFilter.Hamming => 1.0,
        ResampleFilter.Bicubic => 2.0,
        ResampleFilter.Lanczos => 3.0,
        _ => throw Unsupported(filter),
    };

    public static double Weight(ResampleFilter filter, double x) => filter switch
    {
        ResampleFilter.Box => x > -0.5 && x <= 0.5 ? 1.0 : 0.0,
        ResampleFilter.Bilinear => Bilinear(x),
        ResampleFilter.Hamming => Hamming(x),
        ResampleFilter.Bicubic => Bicubic(x),
        ResampleFilter.Lanczos => Lanczos(x),
        _ => throw Unsupported(filter),
    };

    public static NotSupportedException Unsupported(ResampleFilter filter) =>
        new($"resample filter {filter} ({(int)filter}) is not supported: only the convolution filters " +
            "Lanczos (1), Bilinear (2), Bicubic (3), Box (4) and Hamming (5) are ported from Pillow");

    static double Bilinear(double x)
    {
        if (x < 0.0) x = -x;
        return x < 1.0 ? 1.0 - x : 0.0;
    }

    static double Hamming(double x)
    {
        if (x < 0.0) x = -x;
        if (x == 0.0) return 1.0;
        if (x >= 1.0) return 0.0;
        x *= Math.PI;
        // Pillow writes the constants as C floats (0.54f, 0.46f) promoted to double: keep them as floats here.
        return Math.Sin(x) / x * (0.54f + 0.46f * Math.Cos(x));
    }

    static double Bicubic(double x)
    {
        const double a = -0.5;
        if (x < 0.0) x = -x;
        if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
        if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
        return 0.0;
    }

    static double Sinc(double x)
    {
        if (x == 0.0) return 1.0;
        x *= Math.PI;
        return Math.Sin(x) / x;
    }

    static double Lanczos(double x) => -3.0 <= x && x < 3.0 ? Sinc(x) * Sinc(x / 3) : 0.0;
}
