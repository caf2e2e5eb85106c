using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Tensors.Tests.Kernels;

// Dequant4Bit.Fast (per block, AVX-512 lookups) against Dequant4Bit.Reference (the per-element oracle): bit-identical
// f32 outputs for every byte value, both scale layouts, every rounding dtype, ranges starting and ending anywhere.
public sealed unsafe class Dequant4BitTests
{
    public static TheoryData<int, bool, int> Formats()
    {
        var data = new TheoryData<int, bool, int>();
        foreach (int bs in new[] { 32, 64, 256 })
            foreach (bool nested in new[] { false, true })
                foreach (var round in new[] { DType.F32, DType.BF16, DType.F16 })
                    data.Add(bs, nested, (int)round);
        return data;
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Fast_is_bit_identical_to_the_reference(int blocksize, bool nested, int round)
    {
        const int elements = 64 * 1024 + 96;   // 2 × 256 nested blocks at bs 256, partial last blocks elsewhere
        var rng = new Random(blocksize * 7 + (nested ? 1 : 0) + round * 31);
        var packed = new byte[(elements + 1) / 2];
        rng.NextBytes(packed);
        for (int i = 0; i < 256; i++) packed[i] = (byte)i;                  // every pair of codes
        int blocks = (elements + blocksize - 1) / blocksize;
        var code = Enumerable.Range(0, 16).Select(i => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        code[7] = 0f;
        var absmax = Enumerable.Range(0, blocks).Select(_ => (float)(rng.NextDouble() * 0.2)).ToArray();
        absmax[3] = float.NaN;                                              // a corrupt scale: NaN must round alike
        absmax[5] = float.PositiveInfinity;
        absmax[6] = 1.00390625f;                                            // products that tie in bf16
        var quantized = new byte[blocks];
        rng.NextBytes(quantized);
        var nestedCode = Enumerable.Range(0, 256).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var nestedAbsmax = Enumerable.Range(0, (blocks + 255) / 256).Select(_ => (float)rng.NextDouble()).ToArray();

        fixed (byte* p = packed, q = quantized)
        fixed (float* a = absmax, na = nestedAbsmax)
        {
            var source = new Dequant4Bit.Source
            {
                Packed = p, Absmax = nested ? null : a, QuantizedAbsmax = nested ? q : null, NestedAbsmax = nested ? na : null,
                NestedCode = nestedCode, Offset = nested ? 0.0123f : 0f, Code = code, Blocksize = blocksize, Round = (DType)round,
            };
            foreach ((long start, long count) in new (long, long)[]
                     { (0, elements), (1, elements - 1), (blocksize - 3, 2 * blocksize + 5), (17, 15), (elements - 33, 33), (4, 16) })
            {
                var expected = new float[count];
                var actual = new float[count];
                fixed (float* e = expected, f = actual)
                {
                    Dequant4Bit.Reference(source, start, count, e);
                    Dequant4Bit.Fast(source, start, count, f);
                }
                for (long i = 0; i < count; i++)
                    if (BitConverter.SingleToUInt32Bits(expected[i]) != BitConverter.SingleToUInt32Bits(actual[i]))
                        Assert.Fail($"bs={blocksize} nested={nested} round={(DType)round} range [{start}, {start + count}): " +
                            $"element {start + i} is {actual[i]:R}, the reference {expected[i]:R}");
            }
        }
    }
}
