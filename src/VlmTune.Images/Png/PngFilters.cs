namespace VlmTune.Images.Png;

/// <summary>
/// The five PNG row filters (None, Sub, Up, Average, Paeth), reversed in place. <c>bpp</c> is the filter stride
/// (bytes per complete pixel, at least 1); <c>prior</c> is the previous unfiltered row of the same pass, or an empty
/// span for the first row (treated as zeros).
/// </summary>
internal static class PngFilters
{
    public static bool Unfilter(int filter, Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        int n = row.Length;
        bool first = prior.IsEmpty;
        switch (filter)
        {
            case 0:
                return true;
            case 1:
                for (int i = bpp; i < n; i++) row[i] += row[i - bpp];
                return true;
            case 2:
                if (!first)
                    for (int i = 0; i < n; i++) row[i] += prior[i];
                return true;
            case 3:
                if (first)
                {
                    for (int i = bpp; i < n; i++) row[i] += (byte)(row[i - bpp] >> 1);
                    return true;
                }
                for (int i = 0; i < bpp; i++) row[i] += (byte)(prior[i] >> 1);
                for (int i = bpp; i < n; i++) row[i] += (byte)((row[i - bpp] + prior[i]) >> 1);
                return true;
            case 4:
                if (first)
                {
                    for (int i = bpp; i < n; i++) row[i] += row[i - bpp];   // Paeth(a, 0, 0) = a
                    return true;
                }
                for (int i = 0; i < bpp; i++) row[i] += prior[i];           // Paeth(0, b, 0) = b
                PaethRest(row, prior[..n], bpp);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Applies filter <paramref name="filter"/> to <paramref name="row"/> into <paramref name="output"/>.</summary>
    public static void Filter(int filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prior, int bpp, Span<byte> output)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0;
            int b = prior.IsEmpty ? 0 : prior[i];
            int c = prior.IsEmpty || i < bpp ? 0 : prior[i - bpp];
            int predicted = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, _ => Paeth(a, b, c) };
            output[i] = (byte)(row[i] - predicted);
        }
    }

    /// <summary>Paeth for bytes bpp..n−1 of a row with a prior row (the hot loop of most PNGs).</summary>
    private static unsafe void PaethRest(Span<byte> row, ReadOnlySpan<byte> prior, int bpp)
    {
        int n = row.Length;
        // SAFETY: prior has exactly n bytes (sliced by the caller), and every index below is in [0, n).
        fixed (byte* r = row)
        fixed (byte* p = prior)
        {
            for (int i = bpp; i < n; i++)
            {
                int a = r[i - bpp], b = p[i], c = p[i - bpp];
                int pa = b - c, pb = a - c, pc = pa + pb;
                pa = pa < 0 ? -pa : pa;
                pb = pb < 0 ? -pb : pb;
                pc = pc < 0 ? -pc : pc;
                int predicted = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
                r[i] = (byte)(r[i] + predicted);
            }
        }
    }

    public static int Paeth(int a, int b, int c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc) return a;
        return pb <= pc ? b : c;
    }
}
