namespace VlmTune.Processing.Resampling;

/// <summary>
/// The scalar reference of Pillow's two 8-bit passes (ImagingResampleHorizontal_8bpc / ImagingResampleVertical_8bpc),
/// written to be obviously equal to the C code. <see cref="ResamplePassAvx2"/> must match it byte for byte.
/// Layout: interleaved RGB bytes, row stride = width·3. Each output byte is clip8(Half + Σ src·tap).
/// </summary>
internal static class ResamplePassReference
{
    /// <summary>
    /// Horizontal pass. src: (srcHeight, srcWidth, 3); dst: (rowCount, k.OutSize, 3) holding source rows
    /// <paramref name="firstRow"/> .. firstRow + rowCount − 1.
    /// </summary>
    public static void Horizontal(ReadOnlySpan<byte> src, int srcWidth, int firstRow, int rowCount,
                                  ResampleCoefficients k, Span<byte> dst)
    {
        int outWidth = k.OutSize;
        for (int y = 0; y < rowCount; y++)
        {
            ReadOnlySpan<byte> srcRow = src.Slice((firstRow + y) * srcWidth * 3, srcWidth * 3);
            Span<byte> dstRow = dst.Slice(y * outWidth * 3, outWidth * 3);
            for (int o = 0; o < outWidth; o++)
            {
                int xmin = k.First[o], count = k.Count[o], tapBase = o * k.KernelSize;
                int r = ResampleCoefficients.Half, g = ResampleCoefficients.Half, b = ResampleCoefficients.Half;
                for (int t = 0; t < count; t++)
                {
                    int tap = k.Taps[tapBase + t];
                    int p = (xmin + t) * 3;
                    r += srcRow[p] * tap;
                    g += srcRow[p + 1] * tap;
                    b += srcRow[p + 2] * tap;
                }
                dstRow[o * 3] = ResampleCoefficients.Clip8(r);
                dstRow[o * 3 + 1] = ResampleCoefficients.Clip8(g);
                dstRow[o * 3 + 2] = ResampleCoefficients.Clip8(b);
            }
        }
    }

    /// <summary>
    /// Vertical pass. src: (k.InSize, width, 3) already shifted so that row 0 is the first row any tap uses
    /// (<paramref name="rowShift"/> is subtracted from every k.First); dst: (k.OutSize, width, 3).
    /// </summary>
    public static void Vertical(ReadOnlySpan<byte> src, int width, int rowShift, ResampleCoefficients k, Span<byte> dst)
    {
        int rowLength = width * 3;
        for (int o = 0; o < k.OutSize; o++)
        {
            int ymin = k.First[o] - rowShift, count = k.Count[o], tapBase = o * k.KernelSize;
            Span<byte> dstRow = dst.Slice(o * rowLength, rowLength);
            for (int i = 0; i < rowLength; i++)
            {
                int acc = ResampleCoefficients.Half;
                for (int t = 0; t < count; t++)
                    acc += src[(ymin + t) * rowLength + i] * k.Taps[tapBase + t];
                dstRow[i] = ResampleCoefficients.Clip8(acc);
            }
        }
    }
}
