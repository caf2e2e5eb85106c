using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu.Kernels;

namespace VlmTune.Bench;

/// <summary>
/// The `dequant` verb: 4-bit dequantisation (NF4-shaped code table, blocksize 64, double quantisation, bf16 values —
/// the QLoRA recipe's format) of a 1536×576 and a 49280×576 weight on one thread, the per-element reference loop (the
/// former kernel) against Dequant4Bit.Fast, interleaved; G elements/s (median of --reps) and whether they agree bitwise.
/// </summary>
public static unsafe class DequantBench
{
    public static int Run(int reps)
    {
        foreach ((int rows, int cols) in new[] { (1536, 576), (49280, 576) })
            foreach (bool nested in new[] { true, false })
                RunShape(rows, cols, nested, reps);
        return 0;
    }

    static void RunShape(int rows, int cols, bool nested, int reps)
    {
        long n = (long)rows * cols;
        const int bs = 64;
        int blocks = (int)(n / bs);
        var rng = new Random(3);
        // SAFETY: each buffer is allocated with the extent the kernels read or write and freed below.
        byte* packed = (byte*)NativeMemory.Alloc((nuint)(n / 2));
        byte* quantized = (byte*)NativeMemory.Alloc((nuint)blocks);
        float* absmax = (float*)NativeMemory.Alloc((nuint)blocks * 4);
        float* nestedAbsmax = (float*)NativeMemory.Alloc((nuint)(blocks / 256 + 1) * 4);
        float* a = (float*)NativeMemory.Alloc((nuint)n * 4), b = (float*)NativeMemory.Alloc((nuint)n * 4);
        try
        {
            rng.NextBytes(new Span<byte>(packed, (int)(n / 2)));
            rng.NextBytes(new Span<byte>(quantized, blocks));
            for (int i = 0; i < blocks; i++) absmax[i] = (float)rng.NextDouble();
            for (int i = 0; i <= blocks / 256; i++) nestedAbsmax[i] = (float)rng.NextDouble();
            var source = new Dequant4Bit.Source
            {
                Packed = packed, Absmax = nested ? null : absmax, QuantizedAbsmax = nested ? quantized : null,
                NestedAbsmax = nested ? nestedAbsmax : null, Offset = nested ? 0.01f : 0f, Blocksize = bs, Round = DType.BF16,
                NestedCode = Enumerable.Range(0, 256).Select(i => i / 255f).ToArray(),
                Code = Enumerable.Range(0, 16).Select(i => (i - 7) / 8f).ToArray(),
            };
            var reference = new List<double>();
            var fast = new List<double>();
            for (int r = 0; r < reps + 1; r++)   // the first round warms up
            {
                long t0 = Stopwatch.GetTimestamp();
                Dequant4Bit.Reference(source, 0, n, a);
                long t1 = Stopwatch.GetTimestamp();
                Dequant4Bit.Fast(source, 0, n, b);
                long t2 = Stopwatch.GetTimestamp();
                if (r == 0) continue;
                reference.Add(Stopwatch.GetElapsedTime(t0, t1).TotalSeconds);
                fast.Add(Stopwatch.GetElapsedTime(t1, t2).TotalSeconds);
            }
            bool same = new ReadOnlySpan<float>(a, (int)n).SequenceEqual(new ReadOnlySpan<float>(b, (int)n));
            double Med(List<double> t) => t.Order().ElementAt(t.Count / 2);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dequant rows={rows} cols={cols} bs={bs} double_quant={nested} values=bf16 threads=1 " +
                $"reference_gelem_s={n / Med(reference) / 1e9:F2} fast_gelem_s={n / Med(fast) / 1e9:F2} ratio={Med(reference) / Med(fast):F2} bit_identical={same}"));
        }
        finally
        {
            NativeMemory.Free(packed);
            NativeMemory.Free(quantized);
            NativeMemory.Free(absmax);
            NativeMemory.Free(nestedAbsmax);
            NativeMemory.Free(a);
            NativeMemory.Free(b);
        }
    }
}
