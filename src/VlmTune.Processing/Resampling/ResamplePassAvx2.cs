using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace VlmTune.Processing.Resampling;

/// <summary>
/// AVX2 versions of <see cref="ResamplePassReference"/>; same arguments, same bytes out (parity-tested).
/// The arithmetic is unchanged — 32-bit integer multiply-adds of uint8 samples by Pillow's fixed-point taps, then
/// an arithmetic shift and a saturating pack, which is exactly clip8 for the accumulator range Pillow allows —
/// only the order in which independent outputs are computed differs.
/// Horizontal: each source row is first widened RGB → RGBx (4 bytes per pixel) so that two neighbouring taps
/// fill one 8-lane vector [R G B x | R' G' B' x'], multiplied by [t t t t | t' t' t' t'].
/// Vertical: 16 consecutive bytes of a row are accumulated over the taps in two 8-lane vectors.
/// </summary>
internal static unsafe class ResamplePassAvx2
{
    public static bool IsSupported => Avx2.IsSupported;

    public static void Horizontal(ReadOnlySpan<byte> src, int srcWidth, int firstRow, int rowCount,
                                  ResampleCoefficients k, Span<byte> dst)
    {
        int outWidth = k.OutSize;
        int pairs = (k.KernelSize + 1) / 2;
        int[] pairTaps = ExpandTapPairs(k, pairs);                         // (outWidth, pairs, 8)
        var rgbx = new byte[(srcWidth + 2) * 4 + 16];                      // one widened row + zero padding
        int srcRowLength = srcWidth * 3;
        Vector128<byte> widen = Vector128.Create((byte)0, 1, 2, 0x80, 3, 4, 5, 0x80, 6, 7, 8, 0x80, 9, 10, 11, 0x80);

        // SAFETY: every pointer below is derived from a pinned span or array and indexed inside it: source reads
        // are bounds-checked against srcRowLength (16-byte loads only while 16 bytes remain in the row); rgbx reads
        // reach at most pixel First + 2·ceil(Count/2) − 1 ≤ srcWidth, inside the two padding pixels; dst writes of
        // 4 bytes happen only for pixels that are not the last of their row (the 4th byte is rewritten next).
        fixed (byte* srcBase = src)
        fixed (byte* dstBase = dst)
        fixed (byte* rowx = rgbx)
        fixed (int* tapsBase = pairTaps)
        fixed (int* firstBase = k.First)
        fixed (int* countBase = k.Count)
        {
            for (int y = 0; y < rowCount; y++)
            {
                byte* s = srcBase + (long)(firstRow + y) * srcRowLength;
                int x = 0;
                for (; x * 3 + 16 <= srcRowLength; x += 4)
                    Sse2.Store(rowx + x * 4, Ssse3.Shuffle(Sse2.LoadVector128(s + x * 3), widen));
                for (; x < srcWidth; x++)
                {
                    rowx[x * 4] = s[x * 3];
                    rowx[x * 4 + 1] = s[x * 3 + 1];
                    rowx[x * 4 + 2] = s[x * 3 + 2];
                    rowx[x * 4 + 3] = 0;
                }

                byte* d = dstBase + (long)y * outWidth * 3;
                for (int o = 0; o < outWidth; o++)
                {
                    byte* p = rowx + firstBase[o] * 4;
                    int* t = tapsBase + (long)o * pairs * 8;
                    int n = (countBase[o] + 1) / 2;
                    Vector256<int> acc = Vector256.Create(ResampleCoefficients.Half, ResampleCoefficients.Half,
                        ResampleCoefficients.Half, ResampleCoefficients.Half, 0, 0, 0, 0);
                    for (int i = 0; i < n; i++)
                    {
                        Vector256<int> pixels = Avx2.ConvertToVector256Int32(p + i * 8);
                        acc = Avx2.Add(acc, Avx2.MultiplyLow(pixels, Avx.LoadVector256(t + i * 8)));
                    }
                    Vector128<int> sum = Sse2.ShiftRightArithmetic(Sse2.Add(acc.GetLower(), acc.GetUpper()),
                                                                   ResampleCoefficients.PrecisionBits);
                    Vector128<short> shorts = Sse2.PackSignedSaturate(sum, sum);
                    uint rgb = Sse2.PackUnsignedSaturate(shorts, shorts).AsUInt32().ToScalar();
                    if (o < outWidth - 1)
                    {
                        *(uint*)(d + o * 3) = rgb;
                    }
                    else
                    {
                        d[o * 3] = (byte)rgb;
                        d[o * 3 + 1] = (byte)(rgb >> 8);
                        d[o * 3 + 2] = (byte)(rgb >> 16);
                    }
                }
            }
        }
    }

    public static void Vertical(ReadOnlySpan<byte> src, int width, int rowShift, ResampleCoefficients k, Span<byte> dst)
    {
        int rowLength = width * 3;
        // SAFETY: reads are at rows First − rowShift .. + Count − 1 (inside src, as for the reference) and at
        // columns i .. i + 15 (or i + 7) with i + 16 ≤ rowLength (or i + 8 ≤ rowLength); writes mirror the reads.
        fixed (byte* srcBase = src)
        fixed (byte* dstBase = dst)
        fixed (int* tapsBase = k.Taps)
        {
            for (int o = 0; o < k.OutSize; o++)
            {
                byte* rows = srcBase + (long)(k.First[o] - rowShift) * rowLength;
                int count = k.Count[o];
                int* taps = tapsBase + (long)o * k.KernelSize;
                byte* d = dstBase + (long)o * rowLength;
                int i = 0;
                for (; i + 16 <= rowLength; i += 16)
                {
                    Vector256<int> acc0 = Vector256.Create(ResampleCoefficients.Half), acc1 = acc0;
                    byte* p = rows + i;
                    for (int t = 0; t < count; t++, p += rowLength)
                    {
                        Vector256<int> tap = Vector256.Create(taps[t]);
                        acc0 = Avx2.Add(acc0, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), tap));
                        acc1 = Avx2.Add(acc1, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p + 8), tap));
                    }
                    Sse2.Store(d + i, Pack(acc0, acc1));
                }
                for (; i + 8 <= rowLength; i += 8)
                {
                    Vector256<int> acc = Vector256.Create(ResampleCoefficients.Half);
                    byte* p = rows + i;
                    for (int t = 0; t < count; t++, p += rowLength)
                        acc = Avx2.Add(acc, Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(p), Vector256.Create(taps[t])));
                    Sse2.StoreScalar((long*)(d + i), Pack(acc, acc).AsInt64());
                }
                for (; i < rowLength; i++)
                {
                    int acc = ResampleCoefficients.Half;
                    for (int t = 0; t < count; t++)
                        acc += rows[(long)t * rowLength + i] * taps[t];
                    d[i] = ResampleCoefficients.Clip8(acc);
                }
            }
        }
    }

    /// <summary>clip8 of 16 accumulators: shift, then saturate int32 → int16 → uint8 (values fit in int16).</summary>
    static Vector128<byte> Pack(Vector256<int> a, Vector256<int> b)
    {
        a = Avx2.ShiftRightArithmetic(a, ResampleCoefficients.PrecisionBits);
        b = Avx2.ShiftRightArithmetic(b, ResampleCoefficients.PrecisionBits);
        Vector128<short> lo = Sse2.PackSignedSaturate(a.GetLower(), a.GetUpper());
        Vector128<short> hi = Sse2.PackSignedSaturate(b.GetLower(), b.GetUpper());
        return Sse2.PackUnsignedSaturate(lo, hi);
    }

    /// <summary>Taps regrouped in pairs, each tap repeated for the 4 RGBx lanes: (outSize, pairs, 8), zero-padded.</summary>
    static int[] ExpandTapPairs(ResampleCoefficients k, int pairs)
    {
        var expanded = new int[k.OutSize * pairs * 8];
        for (int o = 0; o < k.OutSize; o++)
            for (int t = 0; t < k.Count[o]; t++)
            {
                int tap = k.Taps[o * k.KernelSize + t];
                int at = (o * pairs + t / 2) * 8 + (t % 2) * 4;
                for (int lane = 0; lane < 4; lane++)
                    expanded[at + lane] = tap;
            }
        return expanded;
    }
}
