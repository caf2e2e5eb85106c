using System.Diagnostics;
using Xunit.Abstractions;

namespace VlmTune.Quantization.Tests;

/// <summary>Quantisation error on N(0,1) against the reference script's figure, storage cost, and an opt-in timing.</summary>
public class QuantizationErrorTests(ITestOutputHelper output)
{
    private const int Count = 1 << 20;

    [Theory]
    [InlineData(QuantType.Nf4, false, "nf4_bs64_dq0")]
    [InlineData(QuantType.Nf4, true, "nf4_bs64_dq1")]
    [InlineData(QuantType.Fp4, false, "fp4_bs64_dq0")]
    [InlineData(QuantType.Fp4, true, "fp4_bs64_dq1")]
    public void Rmse_on_standard_normal_is_within_2_percent_of_reference(QuantType type, bool doubleQuant, string key)
    {
        double reference = QuantFixtures.Root.GetProperty("rmse_reference").GetProperty("values").GetProperty(key).GetDouble();
        float[] x = TestData.Normal(Count, seed: 1234);
        var q = Quantizer4Bit.Quantize(x, 64, type, doubleQuant);
        var y = new float[Count];
        Quantizer4Bit.Dequantize(q, y);
        double sum = 0;
        for (int i = 0; i < Count; i++) sum += (double)(y[i] - x[i]) * (y[i] - x[i]);
        double rmse = Math.Sqrt(sum / Count);
        double bytesPerParam = (double)q.StateBytes / Count;
        output.WriteLine($"{key}: rmse {rmse:F6} (reference {reference:F6}, ratio {rmse / reference:F4}); {bytesPerParam:F5} bytes/param = {8 * bytesPerParam:F4} bits");
        Assert.InRange(rmse / reference, 0.98, 1.02);
        Assert.True(bytesPerParam <= (doubleQuant ? 0.6 : 0.5625), $"{bytesPerParam} bytes/param");
    }

    [Fact]
    public void Double_quant_costs_4_127_bits_per_parameter()
    {
        // N = 576·576 (a SmolVLM-256M vision q_proj): 4 + 8/64 + 32/(64·256) bits plus the 4-byte offset.
        var q = Quantizer4Bit.Quantize(TestData.Normal(576 * 576, seed: 9, sigma: 0.02f), 64, QuantType.Nf4, true, [576, 576]);
        double bits = 8.0 * q.StateBytes / q.Count;
        output.WriteLine($"576x576 nf4+dq: {q.StateBytes} bytes, {bits:F4} bits/param, {bits / 8:F4} bytes/param");
        Assert.InRange(bits, 4.127, 4.128);
    }

    /// <summary>Opt-in: VLMTUNE_QUANT_BENCH=1 dotnet test tests/VlmTune.Quantization.Tests -c Release --filter Throughput --logger "console;verbosity=detailed"</summary>
    [Fact]
    public void Throughput_one_core()
    {
        if (Environment.GetEnvironmentVariable("VLMTUNE_QUANT_BENCH") != "1") return;
        const int n = 1 << 22;   // 4M elements = 16 MB of f32
        float[] x = TestData.Normal(n, seed: 11, sigma: 0.02f);
        var y = new float[n];
        foreach (bool dq in new[] { false, true })
        {
            Quantized4Bit q = Quantizer4Bit.Quantize(x, 64, QuantType.Nf4, dq, maxDegreeOfParallelism: 1);
            Quantizer4Bit.Dequantize(q, y, maxDegreeOfParallelism: 1);
            double quant = Time(() => q = Quantizer4Bit.Quantize(x, 64, QuantType.Nf4, dq, maxDegreeOfParallelism: 1));
            double dequant = Time(() => Quantizer4Bit.Dequantize(q, y, maxDegreeOfParallelism: 1));
            double reference = Time(() => Quantizer4Bit.QuantizeRef(x, 64, QuantType.Nf4, dq), repeats: 1);
            double mb = 4.0 * n / 1e6;
            output.WriteLine($"nf4 bs64 dq={dq}: quantise {mb / quant:F0} MB/s of f32 input, dequantise {mb / dequant:F0} MB/s of f32 output, scalar reference quantise {mb / reference:F0} MB/s (one thread, {n} elements)");
        }
    }

    private static double Time(Action action, int repeats = 5)
    {
        double best = double.MaxValue;
        for (int r = 0; r < repeats; r++)
        {
            var sw = Stopwatch.StartNew();
            action();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return best;
    }
}
