namespace VlmTune.Processing.Resampling;

/// <summary>
/// Fixed-point filter taps for one axis, exactly as Pillow's <c>precompute_coeffs</c> + <c>normalize_coeffs_8bpc</c>
/// compute them (libImaging/Resample.c, unchanged from Pillow 9.4 to 11): for output pixel <c>o</c> the taps cover
/// source pixels <c>First[o] .. First[o] + Count[o] - 1</c> and weight source pixel <c>First[o] + t</c> by
/// <c>Taps[o * KernelSize + t] / 2^PrecisionBits</c>. Sums of taps are about 1.0 (normalised in double first).
/// </summary>
internal sealed class ResampleCoefficients
{
    /// <summary>Pillow's PRECISION_BITS = 32 − 8 − 2: 8 bits for the result, 2 for filter overshoot and sign.</summary>
    public const int PrecisionBits = 32 - 8 - 2;

    /// <summary>Rounding offset every accumulator starts from (1 &lt;&lt; (PRECISION_BITS − 1)).</summary>
    public const int Half = 1 << (PrecisionBits - 1);

    public int InSize { get; }
    public int OutSize { get; }
    public int KernelSize { get; }     // ceil(support) * 2 + 1: the stride between output pixels in Taps
    public int[] First { get; }        // (OutSize): first source pixel
    public int[] Count { get; }        // (OutSize): number of source pixels used (≤ KernelSize)
    public int[] Taps { get; }         // (OutSize, KernelSize): fixed-point weights, zero past Count

    ResampleCoefficients(int inSize, int outSize, int kernelSize, int[] first, int[] count, int[] taps)
    {
        InSize = inSize;
        OutSize = outSize;
        KernelSize = kernelSize;
        First = first;
        Count = count;
        Taps = taps;
    }

    /// <summary>Taps for resizing <paramref name="inSize"/> pixels to <paramref name="outSize"/> (box = whole axis).</summary>
    public static ResampleCoefficients Compute(int inSize, int outSize, ResampleFilter filter)
    {
        if (inSize <= 0 || outSize <= 0)
            throw new ArgumentOutOfRangeException(nameof(outSize), $"sizes must be positive, got {inSize} → {outSize}");

        // Pillow passes the box edges as C floats: (float)in1 − (float)in0, then widens to double.
        float in0 = 0f, in1 = inSize;
        double scale = (double)(in1 - in0) / outSize;
        double filterScale = scale < 1.0 ? 1.0 : scale;
        double support = FilterKernel.Support(filter) * filterScale;
        int kernelSize = (int)Math.Ceiling(support) * 2 + 1;
        if ((long)outSize * kernelSize > int.MaxValue / sizeof(double))
            throw new ArgumentOutOfRangeException(nameof(outSize), $"resize {inSize} → {outSize} needs too many filter taps");

        var first = new int[outSize];
        var count = new int[outSize];
        var taps = new int[outSize * kernelSize];
        var weights = new double[kernelSize];
        double inverseScale = 1.0 / filterScale;
        for (int o = 0; o < outSize; o++)
        {
            double center = in0 + (o + 0.5) * scale;
            int xmin = (int)(center - support + 0.5);    // C truncation toward zero, then clamp
            if (xmin < 0) xmin = 0;
            int xmax = (int)(center + support + 0.5);
            if (xmax > inSize) xmax = inSize;
            xmax -= xmin;

            double sum = 0.0;
            for (int x = 0; x < xmax; x++)
            {
                double w = FilterKernel.Weight(filter, (x + xmin - center + 0.5) * inverseScale);
                weights[x] = w;
                sum += w;
            }
            for (int x = 0; x < xmax; x++)
            {
                double w = sum != 0.0 ? weights[x] / sum : weights[x];
                taps[o * kernelSize + x] = ToFixedPoint(w);
            }
            first[o] = xmin;
            count[o] = xmax;
        }
        return new ResampleCoefficients(inSize, outSize, kernelSize, first, count, taps);
    }

    /// <summary>Pillow's normalize_coeffs_8bpc: round half away from zero at 2^PrecisionBits.</summary>
    static int ToFixedPoint(double w) =>
        w < 0 ? (int)(-0.5 + w * (1 << PrecisionBits)) : (int)(0.5 + w * (1 << PrecisionBits));

    /// <summary>Pillow's clip8: the accumulator shifted down to 8 bits and clamped to 0..255.</summary>
    public static byte Clip8(int accumulator)
    {
        int v = accumulator >> PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }
}
