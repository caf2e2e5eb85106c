using System.Runtime.InteropServices;
using System.Text;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Init;

/// <summary>
/// The values of a seeded random SmolVLM checkpoint, computed on demand: every tensor of <see cref="SmolVlmWeightNames.Enumerate"/>
/// is a pure function of (seed, key, element index), so values do not depend on creation order, on chunking or on
/// threads. Element i of a Normal tensor is std · z, z = lane i mod 4 of <see cref="Normal4"/>(KeySeed(seed, key),
/// block i / 4) (Philox4x32-10, four Box–Muller normals per block: 4× fewer blocks and half the transcendentals of
/// Philox.Normal, which keeps `init --like smolvlm-256m` at a few seconds); norm weights are 1, biases 0. std is
/// vision_config.initializer_range for the vision tower and text_config.initializer_range for the rest.
/// With <see cref="DType.BF16"/> storage each value is rounded to bf16 (nearest even). <see cref="RandomWeights"/>
/// hands these tensors to a model; <see cref="WriteTo"/> streams them into a safetensors file.
/// </summary>
public sealed class RandomInit
{
    /// <summary>Elements generated per parallel work item.</summary>
    const int Block = 1 << 16;

    readonly SmolVlmConfig _config;
    readonly Dictionary<string, long[]> _shapes = new(StringComparer.Ordinal);

    public ulong Seed { get; }
    /// <summary>Storage dtype of every tensor: F32 or BF16.</summary>
    public DType DType { get; }

    public RandomInit(SmolVlmConfig config, ulong seed, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (dtype != DType.F32 && dtype != DType.BF16)
            throw new ArgumentException($"random weights are stored as f32 or bf16, not {dtype.Name()}", nameof(dtype));
        _config = config;
        Seed = seed;
        DType = dtype;
        foreach (var (name, shape) in SmolVlmWeightNames.Enumerate(config)) _shapes[name] = shape;
    }

    /// <summary>Every key with its shape, in <see cref="SmolVlmWeightNames.Enumerate"/> order.</summary>
    public IReadOnlyList<(string Name, long[] Shape)> Tensors => SmolVlmWeightNames.Enumerate(_config);

    /// <summary>The shape of <paramref name="key"/>.</summary>
    /// <exception cref="ModelLoadException">The config has no such tensor.</exception>
    public long[] ShapeOf(string key) => _shapes.TryGetValue(key, out var shape) ? shape
        : throw new ModelLoadException($"random weights: the config has no tensor '{key}'");

    /// <summary>Ones for norm weights ("…norm….weight"), zeros for biases, normal otherwise.</summary>
    public static InitKind KindOf(string key)
    {
        if (key.EndsWith(".bias", StringComparison.Ordinal)) return InitKind.Zeros;
        int dot = key.LastIndexOf('.');
        string module = dot < 0 ? key : key[..dot];
        string last = module[(module.LastIndexOf('.') + 1)..];
        return last.Contains("norm", StringComparison.Ordinal) ? InitKind.Ones : InitKind.Normal;
    }

    /// <summary>The standard deviation of a Normal key: the vision or the text initializer_range.</summary>
    public float StdOf(string key) => (float)(key.StartsWith(SmolVlmWeightNames.VisionPrefix, StringComparison.Ordinal)
        ? _config.Vision.InitializerRange
        : _config.Text.InitializerRange);

    /// <summary>The Philox key of one tensor: SplitMix64(seed ⊕ FNV-1a-64(UTF-8 key)).</summary>
    public static ulong KeySeed(ulong seed, string key)
    {
        ulong h = 0xCBF29CE484222325;
        foreach (byte b in Encoding.UTF8.GetBytes(key)) h = (h ^ b) * 0x100000001B3;
        ulong z = seed ^ h;
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Elements [offset, offset + dst.Length) of <paramref name="key"/> as f32 (before any bf16 rounding).</summary>
    public void FillF32(string key, long offset, Span<float> dst)
    {
        var kind = KindOf(key);
        if (kind != InitKind.Normal)
        {
            dst.Fill(kind == InitKind.Ones ? 1f : 0f);
            return;
        }
        ulong s = KeySeed(Seed, key);
        float std = StdOf(key);
        Span<float> z = stackalloc float[4];
        long block = -1;
        for (int j = 0; j < dst.Length; j++)
        {
            long i = offset + j;
            if (i >> 2 != block)
            {
                block = i >> 2;
                Normal4(s, (ulong)block, z);
            }
            dst[j] = std * z[(int)(i & 3)];
        }
    }

    /// <summary>
    /// Four standard normals from one Philox block: Box–Muller (cos, sin) on words (0, 1) and on words (2, 3), in
    /// float32. u = ((w &gt;&gt; 8) + 1) / 2²⁴ ∈ (0, 1] for the radius, θ = 2π (w' &gt;&gt; 8) / 2²⁴.
    /// </summary>
    public static void Normal4(ulong seed, ulong block, Span<float> z)
    {
        var (a, b, c, d) = Philox.Block(seed, block);
        (z[0], z[1]) = BoxMuller(a, b);
        (z[2], z[3]) = BoxMuller(c, d);
    }

    static (float, float) BoxMuller(uint u, uint v)
    {
        float r = MathF.Sqrt(-2f * MathF.Log(((u >> 8) + 1) * (1f / 16777216f)));
        var (sin, cos) = MathF.SinCos(2f * MathF.PI * ((v >> 8) * (1f / 16777216f)));
        return (r * cos, r * sin);
    }

    /// <summary>Elements [offset, offset + dst.Length) of <paramref name="key"/> as bf16 bits (round to nearest even).</summary>
    public void FillBf16(string key, long offset, Span<ushort> dst)
    {
        Span<float> tmp = stackalloc float[256];
        for (int start = 0; start < dst.Length; start += tmp.Length)
        {
            int n = Math.Min(tmp.Length, dst.Length - start);
            FillF32(key, offset + start, tmp[..n]);
            for (int i = 0; i < n; i++) dst[start + i] = ToBf16(tmp[i]);
        }
    }

    /// <summary>
    /// Writes the little-endian bytes of <paramref name="key"/> in <see cref="DType"/> to <paramref name="destination"/>,
    /// generated in parallel blocks of 64 Ki elements (the values do not depend on the split).
    /// </summary>
    public void WriteTo(string key, Stream destination)
    {
        long n = ShapeOf(key).Aggregate(1L, (a, d) => a * d);
        int width = DType.Size();
        long chunk = Math.Min(n, 64L * Block);                  // 4 Mi elements per write
        var buffer = new byte[chunk * width];
        for (long start = 0; start < n; start += chunk)
        {
            int count = (int)Math.Min(chunk, n - start);
            int blocks = (count + Block - 1) / Block;
            long first = start;
            Parallel.For(0, blocks, b =>
            {
                int s = b * Block, len = Math.Min(Block, count - s);
                if (DType == DType.BF16)
                    FillBf16(key, first + s, MemoryMarshal.Cast<byte, ushort>(buffer.AsSpan(s * 2, len * 2)));
                else
                    FillF32(key, first + s, MemoryMarshal.Cast<byte, float>(buffer.AsSpan(s * 4, len * 4)));
            });
            destination.Write(buffer, 0, count * width);
        }
    }

    /// <summary>f32 → bf16 bits, round to nearest even; NaN stays a quiet NaN.</summary>
    public static ushort ToBf16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7FFFFFFF) > 0x7F800000) return (ushort)((u >> 16) | 0x40);
        u += 0x7FFF + ((u >> 16) & 1);
        return (ushort)(u >> 16);
    }
}
