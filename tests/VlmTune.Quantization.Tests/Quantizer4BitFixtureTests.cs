namespace VlmTune.Quantization.Tests;

/// <summary>Bit-exactness against the bitsandbytes reference path (fixtures from tests/reference/quant/make_fixtures.py).</summary>
public class Quantizer4BitFixtureTests(Xunit.Abstractions.ITestOutputHelper output)
{
    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (string name in QuantFixtures.CaseNames())
        {
            data.Add(name, true);
            data.Add(name, false);
        }
        return data;
    }

    public static TheoryData<string> CaseNames() => [.. QuantFixtures.CaseNames()];

    [Theory, MemberData(nameof(Cases))]
    public void Codes_packing_and_absmax_are_bit_exact(string name, bool reference)
    {
        var fx = QuantFixtures.Case(name);
        Quantized4Bit q = fx.Quantize(reference);
        Assert.Equal(fx.Bytes("packed"), q.Packed);
        Assert.Equal(fx.Shape, q.Shape);
        Assert.Equal(fx.Dtype, q.Dtype);
        if (!fx.DoubleQuant)
        {
            AssertBits(fx.F32("absmax"), q.Absmax!);
            return;
        }
        // mean(absmax): torch's f32 summation order is not reproduced; the errata allow one ulp.
        float expected = fx.NestedOffset;
        Assert.True(Math.Abs(BitConverter.SingleToInt32Bits(q.Offset) - BitConverter.SingleToInt32Bits(expected)) <= 1,
            $"offset {q.Offset:R} vs reference {expected:R}");
        bool sameOffset = BitConverter.SingleToInt32Bits(q.Offset) == BitConverter.SingleToInt32Bits(expected);
        output.WriteLine($"{name}: offset {(sameOffset ? "bit-exact" : "1 ulp off")} ({q.Offset:R} vs {expected:R})");
        if (sameOffset)
        {
            Assert.Equal(fx.Bytes("absmax_u8"), q.QuantizedAbsmax);
            AssertBits(fx.F32("nested_absmax"), q.NestedAbsmax!);
        }
        AssertBits(fx.F32("nested_quant_map"), q.NestedCode!);
    }

    [Theory, MemberData(nameof(Cases))]
    public void Nested_state_is_bit_exact_given_the_reference_offset(string name, bool reference)
    {
        var fx = QuantFixtures.Case(name);
        if (!fx.DoubleQuant) return;
        float[] absmax = fx.F32("absmax_f32_before_dq");
        float offset = fx.NestedOffset;
        float[] centred = [.. absmax.Select(a => a - offset)];
        var codes = new byte[absmax.Length];
        var absmax2 = new float[(absmax.Length + 255) / 256];
        if (reference) NestedQuant.QuantizeRef(centred, QuantTables.DynamicSigned, codes, absmax2);
        else NestedQuant.Quantize(centred, QuantTables.DynamicSigned, codes, absmax2);
        Assert.Equal(fx.Bytes("absmax_u8"), codes);
        AssertBits(fx.F32("nested_absmax"), absmax2);
        // and the 4-bit absmax before double quant is ours, bit for bit
        AssertBits(absmax, fx.Quantize(reference).DoubleQuant ? QuantizeAbsmaxOnly(fx) : absmax);
    }

    [Theory, MemberData(nameof(CaseNames))]
    public void Dequantisation_equals_reference(string name)
    {
        var fx = QuantFixtures.Case(name);
        Quantized4Bit state = fx.State();
        float[] expected = fx.F32("dequantized");
        var fast = new float[expected.Length];
        var reference = new float[expected.Length];
        Quantizer4Bit.Dequantize(state, fast);
        Quantizer4Bit.DequantizeRef(state, reference);
        AssertBits(expected, reference);
        AssertBits(expected, fast);
    }

    [Theory, MemberData(nameof(CaseNames))]
    public void Quant_state_json_matches_bitsandbytes_bytes(string name)
    {
        var fx = QuantFixtures.Case(name);
        Assert.Equal(fx.QuantStateJson, Bnb4BitFormat.QuantStateJson(fx.State(), fx.Dtype));
    }

    [Fact]
    public void Quant_maps_match_the_reference_tables()
    {
        foreach (string name in QuantFixtures.CaseNames())
        {
            var fx = QuantFixtures.Case(name);
            AssertBits(fx.F32("quant_map"), QuantTables.For(fx.Type).ToArray());
            if (fx.DoubleQuant) AssertBits(fx.F32("nested_quant_map"), QuantTables.DynamicSigned.ToArray());
        }
        Assert.Equal(-0.99296875f, QuantTables.DynamicSigned[0]);
        Assert.Equal(1f, QuantTables.DynamicSigned[255]);
        Assert.Equal(0.0f, QuantTables.Nf4[QuantTables.ZeroCode(QuantType.Nf4)]);
        Assert.Equal(0.0f, QuantTables.Fp4[QuantTables.ZeroCode(QuantType.Fp4)]);
    }

    private static float[] QuantizeAbsmaxOnly(FixtureCase fx)
    {
        // the same input without double quant exposes the plain f32 absmax
        return fx.IsBf16
            ? Quantizer4Bit.QuantizeBf16(fx.InputBf16, fx.Blocksize, fx.Type, false, fx.Shape).Absmax!
            : Quantizer4Bit.Quantize(fx.InputF32, fx.Blocksize, fx.Type, false, fx.Shape).Absmax!;
    }

    internal static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"element {i}: expected {expected[i]:R} (0x{BitConverter.SingleToInt32Bits(expected[i]):X8}), got {actual[i]:R} (0x{BitConverter.SingleToInt32Bits(actual[i]):X8})");
    }
}
