using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda.Tests.Families;

public class NumTests
{
    [Fact]
    public void Half_conversion_equals_dotnet_on_every_half_and_random_floats()
    {
        for (int h = 0; h < 65536; h++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf((ushort)h);
            var got = Num.HalfToFloat((ushort)h);
            if (float.IsNaN(expected)) Assert.True(float.IsNaN(got));
            else Assert.Equal(BitConverter.SingleToUInt32Bits(expected), BitConverter.SingleToUInt32Bits(got));
        }
        var rng = new Random(5);
        for (int i = 0; i < 200000; i++)
        {
            float f = BitConverter.UInt32BitsToSingle((uint)rng.NextInt64(0, 1L << 32));
            if (i % 2 == 0) f = (float)(rng.NextDouble() * 2 - 1) * MathF.Pow(2, rng.Next(-30, 20));
            ushort expected = BitConverter.HalfToUInt16Bits((Half)f);
            ushort got = Num.FloatToHalf(f);
            if (float.IsNaN(f)) Assert.True(Half.IsNaN(BitConverter.UInt16BitsToHalf(got)));
            else Assert.True(expected == got, $"{f:R} (0x{BitConverter.SingleToUInt32Bits(f):X8}): expected 0x{expected:X4}, got 0x{got:X4}");
        }
    }
}
