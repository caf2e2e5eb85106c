namespace VlmTune.Quantization.Tests;

/// <summary>The fast path (Vector256, parallel chunks, range/row dequantisation) against the scalar reference.</summary>
public class Quantizer4BitParityTests
{
    [Theory]
    [InlineData(QuantType.Nf4, 64, 4096 + 7, false)]
    [InlineData(QuantType.Nf4, 64, 4096 + 7, true)]
    [InlineData(QuantType.Fp4, 64, 3000, true)]
    [InlineData(QuantType.Nf4, 32, 999, true)]
    [InlineData(QuantType.Fp4, 128, 1 << 12, false)]
    [InlineData(QuantType.Nf4, 4096, 10_001, true)]
    [InlineData(QuantType.Fp4, 256, 1, false)]
    [InlineData(QuantType.Nf4, 64, 2, true)]
    public void Fast_equals_reference(QuantType type, int blocksize, int n, bool doubleQuant)
    {
        float[] x = TestData.Normal(n, seed: n + blocksize, sigma: 0.02f);
        AssertSame(Quantizer4Bit.QuantizeRef(x, blocksize, type, doubleQuant), Quantizer4Bit.Quantize(x, blocksize, type, doubleQuant));
    }

    [Theory]
    [InlineData(QuantType.Nf4)]
    [InlineData(QuantType.Fp4)]
    public void Parallel_path_equals_reference(QuantType type)
    {
        int n = Quantizer4Bit.ParallelThreshold + 4096 + 33;   // several chunks plus a partial block
        float[] x = TestData.Normal(n, seed: 7);
        x[12345] = 0f;
        Array.Clear(x, 64 * 10, 64);   // an all-zero block
        var q = Quantizer4Bit.Quantize(x, 64, type, doubleQuant: true, maxDegreeOfParallelism: 4);
        AssertSame(Quantizer4Bit.QuantizeRef(x, 64, type, true), q);
        var fast = new float[n];
        var reference = new float[n];
        Quantizer4Bit.Dequantize(q, fast, maxDegreeOfParallelism: 4);
        Quantizer4Bit.DequantizeRef(q, reference);
        Quantizer4BitFixtureTests.AssertBits(reference, fast);
        Assert.All(fast.AsSpan(640, 64).ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Every_code_boundary_matches_between_fast_and_reference()
    {
        // the scaled values sweep [-1, 1] densely, including every midpoint and its neighbours
        foreach (QuantType type in new[] { QuantType.Nf4, QuantType.Fp4 })
        {
            var values = new List<float> { 1f };   // keeps absmax = 1 so scaled == value
            foreach (float m in CodeSearch.For(type).Midpoints)
                values.AddRange([m, MathF.BitDecrement(m), MathF.BitIncrement(m), -m]);
            for (int i = 0; i <= 200; i++) values.Add(-1f + i / 100f);
            while (values.Count % 64 != 0) values.Add(0.5f);
            float[] x = [.. values];
            AssertSame(Quantizer4Bit.QuantizeRef(x, 64, type, false), Quantizer4Bit.Quantize(x, 64, type, false));
        }
    }

    [Theory]
    [InlineData(10, 100, 64)]    // in % bs != 0: blocks straddle rows
    [InlineData(12, 128, 64)]    // rows own whole blocks
    [InlineData(7, 33, 32)]      // odd row length: rows start on odd elements
    public void DequantizeRows_equals_slice_of_full_dequantisation(int rows, int cols, int blocksize)
    {
        float[] x = TestData.Normal(rows * cols, seed: rows * cols);
        var q = Quantizer4Bit.Quantize(x, blocksize, QuantType.Nf4, doubleQuant: true, shape: [rows, cols]);
        var full = new float[rows * cols];
        Quantizer4Bit.DequantizeRef(q, full);
        for (int r0 = 0; r0 < rows; r0 += 3)
        {
            int count = Math.Min(4, rows - r0);
            var tile = new float[count * cols];
            Quantizer4Bit.DequantizeRows(q, r0, count, tile);
            Quantizer4BitFixtureTests.AssertBits(full.AsSpan(r0 * cols, count * cols), tile);
        }
        var odd = new float[5];
        Quantizer4Bit.DequantizeRange(q, 63, odd);   // crosses a block boundary from an odd element
        Quantizer4BitFixtureTests.AssertBits(full.AsSpan(63, 5), odd);
    }

    [Fact]
    public void Bf16_dequantisation_rounds_to_nearest_even()
    {
        float[] x = TestData.Normal(256, seed: 3);
        var q = Quantizer4Bit.Quantize(x, 64, QuantType.Nf4, false);
        var f32 = new float[256];
        var bf16 = new ushort[256];
        Quantizer4Bit.Dequantize(q, f32);
        Quantizer4Bit.DequantizeBf16(q, bf16);
        for (int i = 0; i < 256; i++)
        {
            float back = BlockMath.Bf16ToSingle(bf16[i]);
            Assert.True(MathF.Abs(back - f32[i]) <= MathF.Abs(f32[i]) / 256f, $"element {i}: {f32[i]} → {back}");
        }
        Assert.Equal(0x3F80, BlockMath.SingleToBf16(1.00390625f));   // tie → even
        Assert.Equal(0x3F82, BlockMath.SingleToBf16(1.01171875f));   // tie → even (up)
    }

    [Fact]
    public void Bad_input_gets_typed_errors()
    {
        float[] x = TestData.Normal(200, seed: 1);
        x[131] = float.NaN;
        var e = Assert.Throws<QuantizationFormatException>(() => Quantizer4Bit.Quantize(x, 64, QuantType.Nf4, false));
        Assert.Contains("element 131", e.Message);
        e = Assert.Throws<QuantizationFormatException>(() => Quantizer4Bit.QuantizeRef(x, 64, QuantType.Nf4, false));
        Assert.Contains("element 131", e.Message);
        e = Assert.Throws<QuantizationFormatException>(() => Quantizer4Bit.Quantize(new float[100], 48, QuantType.Nf4, false));
        Assert.Contains("blocksize 48", e.Message);
        e = Assert.Throws<QuantizationFormatException>(() => Quantizer4Bit.Quantize(new float[100], 64, QuantType.Nf4, false, [3, 33]));
        Assert.Contains("[3, 33]", e.Message);
    }

    internal static void AssertSame(Quantized4Bit expected, Quantized4Bit actual)
    {
        Assert.Equal(expected.Packed, actual.Packed);
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.DoubleQuant, actual.DoubleQuant);
        if (expected.DoubleQuant)
        {
            Assert.Equal(expected.QuantizedAbsmax, actual.QuantizedAbsmax);
            Quantizer4BitFixtureTests.AssertBits(expected.NestedAbsmax, actual.NestedAbsmax);
            Assert.Equal(BitConverter.SingleToInt32Bits(expected.Offset), BitConverter.SingleToInt32Bits(actual.Offset));
        }
        else
        {
            Quantizer4BitFixtureTests.AssertBits(expected.Absmax, actual.Absmax);
        }
    }
}
