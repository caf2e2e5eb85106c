namespace VlmTune.Images.Jpeg;

/// <summary>
/// libjpeg's default inverse DCT, JDCT_ISLOW (jidctint.c, Loeffler–Ligtenberg–Moschytz with 12 multiplies):
/// 13-bit fixed-point constants, a column pass that keeps PASS1_BITS = 2 extra bits, a row pass that descales by
/// 13 + 2 + 3 bits with rounding, and libjpeg's post-IDCT range limit (value + 128 clamped to 0..255 after masking
/// to 10 bits, so wildly out-of-range values wrap exactly as in libjpeg). Dequantization happens on input.
/// Written from the algorithm's description; the arithmetic (order of additions, roundings) follows it exactly so
/// that output matches djpeg bit for bit.
/// </summary>
internal static class JpegIdct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    // FIX(x) = round(x · 2^13)
    private const int Fix0_298631336 = 2446;
    private const int Fix0_390180644 = 3196;
    private const int Fix0_541196100 = 4433;
    private const int Fix0_765366865 = 6270;
    private const int Fix0_899976223 = 7373;
    private const int Fix1_175875602 = 9633;
    private const int Fix1_501321110 = 12299;
    private const int Fix1_847759065 = 15137;
    private const int Fix1_961570560 = 16069;
    private const int Fix2_053119869 = 16819;
    private const int Fix2_562915447 = 20995;
    private const int Fix3_072711026 = 25172;

    /// <summary>Post-IDCT range limit, indexed by (value &amp; 1023).</summary>
    private static readonly byte[] s_rangeLimit = BuildRangeLimit();

    private static byte[] BuildRangeLimit()
    {
        var t = new byte[1024];
        for (int i = 0; i < 1024; i++)
        {
            int v = i < 512 ? i : i - 1024;   // the 10-bit value as signed
            t[i] = (byte)Math.Clamp(v + 128, 0, 255);
        }
        return t;
    }

    /// <summary>One 8×8 block: coef (64, natural order) × quant (64) → 8 rows of 8 samples at output[offset + r·stride].</summary>
    public static void Transform(ReadOnlySpan<short> coef, ReadOnlySpan<ushort> quant, Span<byte> output, int offset,
        int stride)
    {
        Span<int> ws = stackalloc int[64];
        for (int col = 0; col < 8; col++)
            Column(coef, quant, ws, col);
        var range = s_rangeLimit;
        for (int row = 0; row < 8; row++)
            Row(ws.Slice(row * 8, 8), output.Slice(offset + row * stride, 8), range);
    }

    private static void Column(ReadOnlySpan<short> c, ReadOnlySpan<ushort> q, Span<int> ws, int i)
    {
        if (c[i + 8] == 0 && c[i + 16] == 0 && c[i + 24] == 0 && c[i + 32] == 0 && c[i + 40] == 0 && c[i + 48] == 0 &&
            c[i + 56] == 0)
        {
            int dc = c[i] * q[i] << Pass1Bits;   // AC terms all zero: the full pass gives the same value
            for (int r = 0; r < 8; r++) ws[i + 8 * r] = dc;
            return;
        }
        // Even part.
        int z2 = c[i + 16] * q[i + 16], z3 = c[i + 48] * q[i + 48];
        int z1 = (z2 + z3) * Fix0_541196100;
        int tmp2 = z1 + z3 * -Fix1_847759065;
        int tmp3 = z1 + z2 * Fix0_765366865;
        z2 = c[i] * q[i];
        z3 = c[i + 32] * q[i + 32];
        int tmp0 = (z2 + z3) << ConstBits;
        int tmp1 = (z2 - z3) << ConstBits;
        int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        // Odd part.
        tmp0 = c[i + 56] * q[i + 56];
        tmp1 = c[i + 40] * q[i + 40];
        tmp2 = c[i + 24] * q[i + 24];
        tmp3 = c[i + 8] * q[i + 8];
        Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);
        const int shift = ConstBits - Pass1Bits;
        ws[i] = Descale(tmp10 + tmp3, shift);
        ws[i + 56] = Descale(tmp10 - tmp3, shift);
        ws[i + 8] = Descale(tmp11 + tmp2, shift);
        ws[i + 48] = Descale(tmp11 - tmp2, shift);
        ws[i + 16] = Descale(tmp12 + tmp1, shift);
        ws[i + 40] = Descale(tmp12 - tmp1, shift);
        ws[i + 24] = Descale(tmp13 + tmp0, shift);
        ws[i + 32] = Descale(tmp13 - tmp0, shift);
    }

    private static void Row(ReadOnlySpan<int> w, Span<byte> o, byte[] range)
    {
        const int shift = ConstBits + Pass1Bits + 3;
        if (w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0)
        {
            byte dc = range[Descale(w[0], Pass1Bits + 3) & 1023];
            o.Fill(dc);
            return;
        }
        int z2 = w[2], z3 = w[6];
        int z1 = (z2 + z3) * Fix0_541196100;
        int tmp2 = z1 + z3 * -Fix1_847759065;
        int tmp3 = z1 + z2 * Fix0_765366865;
        int tmp0 = (w[0] + w[4]) << ConstBits;
        int tmp1 = (w[0] - w[4]) << ConstBits;
        int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        tmp0 = w[7];
        tmp1 = w[5];
        tmp2 = w[3];
        tmp3 = w[1];
        Odd(ref tmp0, ref tmp1, ref tmp2, ref tmp3);
        o[0] = range[Descale(tmp10 + tmp3, shift) & 1023];
        o[7] = range[Descale(tmp10 - tmp3, shift) & 1023];
        o[1] = range[Descale(tmp11 + tmp2, shift) & 1023];
        o[6] = range[Descale(tmp11 - tmp2, shift) & 1023];
        o[2] = range[Descale(tmp12 + tmp1, shift) & 1023];
        o[5] = range[Descale(tmp12 - tmp1, shift) & 1023];
        o[3] = range[Descale(tmp13 + tmp0, shift) & 1023];
        o[4] = range[Descale(tmp13 - tmp0, shift) & 1023];
    }

    /// <summary>Odd part: inputs tmp0..tmp3 = terms 7, 5, 3, 1; outputs the four odd contributions.</summary>
    private static void Odd(ref int tmp0, ref int tmp1, ref int tmp2, ref int tmp3)
    {
        int z1 = tmp0 + tmp3, z2 = tmp1 + tmp2, z3 = tmp0 + tmp2, z4 = tmp1 + tmp3;
        int z5 = (z3 + z4) * Fix1_175875602;
        tmp0 *= Fix0_298631336;
        tmp1 *= Fix2_053119869;
        tmp2 *= Fix3_072711026;
        tmp3 *= Fix1_501321110;
        z1 *= -Fix0_899976223;
        z2 *= -Fix2_562915447;
        z3 = z3 * -Fix1_961570560 + z5;
        z4 = z4 * -Fix0_390180644 + z5;
        tmp0 += z1 + z3;
        tmp1 += z2 + z4;
        tmp2 += z2 + z3;
        tmp3 += z1 + z4;
    }

    private static int Descale(int x, int n) => (x + (1 << (n - 1))) >> n;
}
