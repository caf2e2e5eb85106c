using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using VlmTune.Quantization;
using VlmTune.Tensors.Cuda.Kernels;
using VlmTune.Tensors.Cuda.Tests.Support;
using VlmTune.Tensors.Quantization;
using TOps = VlmTune.Tensors.Ops;

namespace VlmTune.Tensors.Cuda.Tests.Families;

/// <summary>
/// 4-bit weights on the CUDA backend: device quantisation byte-identical to VlmTune.Quantization's Quantizer4Bit,
/// dequantisation bit-identical to the CPU backend (and to Quantizer4Bit.Dequantize), the 4-bit products against the
/// CPU backend, and the PTX of the bit-deciding kernels (IEEE-rounded ops only: no fma, no approximate division).
/// </summary>
public class Quant4BitTests
{
    // ---- inputs ----

    /// <summary>
    /// (out·in) f32 values: random normal blocks at varied scales, plus blocks whose scaled values sit exactly on,
    /// just below and just above every code midpoint (absmax 1 so s = x), an all-zero block, and a block whose absmax
    /// is subnormal (fl(1/absmax) = ∞: 0·∞ = NaN takes the lowest code, as on the host).
    /// </summary>
    static float[] Weights(ulong seed, int outF, int inF, int blocksize, QuantType type)
    {
        var w = Sim.Rand(seed, outF * inF).ToArray<float>();
        int n = w.Length, blocks = (n + blocksize - 1) / blocksize;
        for (int b = 0; b < blocks; b++)
        {
            float scale = MathF.Pow(2f, b % 7 - 3) * (1f + 0.1f * b);
            for (int i = b * blocksize; i < Math.Min(n, (b + 1) * blocksize); i++) w[i] *= scale;
        }
        var mids = CudaBackend.CodeSearchOf(QuantTables.For(type).ToArray()).Midpoints;
        var edge = new List<float> { 1f };
        foreach (float m in mids)
            edge.AddRange([m, MathF.BitDecrement(m), MathF.BitIncrement(m), -m, -MathF.BitDecrement(m), -MathF.BitIncrement(m)]);
        edge.AddRange([-1f, 0f, -0f, 0.5f, -0.5f]);
        void Put(int block, IList<float> values)
        {
            int s = block * blocksize;
            for (int i = 0; i < values.Count && s + i < n && i < blocksize; i++) w[s + i] = values[i];
        }
        if (blocks > 1) Put(1, edge);                       // boundaries inside a full block (f32: exact)
        if (blocks > 2) Put(2, new float[blocksize]);       // all-zero full block
        if (blocks > 3) Put(3, [1e-45f, 0f, -1e-45f, 3e-45f, 0f]); // subnormal absmax
        Put(blocks - 1, edge);                              // boundaries in the (possibly partial) last block
        return w;
    }

    static ushort[] ToBf16(float[] w) => w.Select(Num.FloatToBf16).ToArray();

    static Quantized4Bit HostQuantize(float[] w, ushort[]? bf16, int outF, int inF, int bs, QuantType type, bool dq)
        => bf16 != null
            ? Quantizer4Bit.QuantizeBf16(bf16, bs, type, dq, [outF, inF])
            : Quantizer4Bit.Quantize(w, bs, type, dq, [outF, inF]);

    static Packed4BitWeight ToWeight(Quantized4Bit q, Device d, DType valueDType = DType.F32) => new()
    {
        ValueDType = valueDType,
        OutFeatures = (int)q.Shape[0], InFeatures = (int)q.Shape[1], Blocksize = q.Blocksize,
        Code = QuantTables.For(q.QuantType).ToArray(),
        Packed = TOps.FromArray(q.Packed, new Shape(q.Packed.Length), d),
        Absmax = q.Absmax == null ? null : TOps.FromArray(q.Absmax, new Shape(q.Absmax.Length), d),
        QuantizedAbsmax = q.QuantizedAbsmax == null ? null : TOps.FromArray(q.QuantizedAbsmax, new Shape(q.QuantizedAbsmax.Length), d),
        NestedAbsmax = q.NestedAbsmax == null ? null : TOps.FromArray(q.NestedAbsmax, new Shape(q.NestedAbsmax.Length), d),
        NestedCode = q.NestedCode, Offset = q.Offset, Name = "w",
    };

    static Packed4BitWeight DeviceQuantize(Device d, Tensor weight, int bs, QuantType type, bool dq)
        => ((IQuantizer4Bit)d.Backend).Quantize4Bit(weight, QuantTables.For(type).ToArray(), bs, dq ? QuantTables.DynamicSignedCopy() : null, "w");

    static uint[] Bits(float[] v) => v.Select(BitConverter.SingleToUInt32Bits).ToArray();

    static void SameBytes(Quantized4Bit q, Packed4BitWeight w, string what)
    {
        Assert.Equal(q.Packed, w.Packed.ToArray<byte>());
        Assert.Equal(q.DoubleQuant, w.DoubleQuant);
        if (q.DoubleQuant)
        {
            Assert.Equal(q.QuantizedAbsmax, w.QuantizedAbsmax!.ToArray<byte>());
            Assert.Equal(Bits(q.NestedAbsmax!), Bits(w.NestedAbsmax!.ToArray<float>()));
            Assert.True(BitConverter.SingleToUInt32Bits(q.Offset) == BitConverter.SingleToUInt32Bits(w.Offset), $"{what}: offset {w.Offset:G9} != host {q.Offset:G9}");
            Assert.Equal(q.NestedCode, w.NestedCode);
        }
        else
        {
            Assert.Equal(Bits(q.Absmax!), Bits(w.Absmax!.ToArray<float>()));
        }
        Assert.Equal(QuantTables.For(q.QuantType).ToArray(), w.Code);
    }

    // ---- device quantisation ----

    [Theory]
    [InlineData(7, 45, 64, QuantType.Nf4, false, DType.F32)]     // odd N, partial last block
    [InlineData(7, 45, 64, QuantType.Fp4, true, DType.F32)]
    [InlineData(12, 64, 64, QuantType.Nf4, true, DType.BF16)]    // whole blocks
    [InlineData(5, 301, 256, QuantType.Fp4, false, DType.BF16)]  // odd N, bs 256
    [InlineData(5, 301, 256, QuantType.Nf4, true, DType.F32)]
    [InlineData(3, 21, 32, QuantType.Nf4, false, DType.F16)]     // a single partial block
    public void Quantize_matches_host_bytes(int outF, int inF, int bs, QuantType type, bool dq, DType dtype)
    {
        var w = Weights(11, outF, inF, bs, type);
        ushort[]? bf16 = dtype == DType.BF16 ? ToBf16(w) : null;
        float[] hostInput = dtype == DType.F16 ? w.Select(v => (float)(System.Half)v).ToArray() : w;
        var q = HostQuantize(hostInput, bf16, outF, inF, bs, type, dq);
        var dev = dtype switch
        {
            DType.BF16 => TOps.FromArray(bf16!, new Shape(outF, inF), Sim.Device, DType.BF16),
            DType.F16 => TOps.FromArray(w.Select(v => (System.Half)v).ToArray(), new Shape(outF, inF), Sim.Device, DType.F16),
            _ => TOps.FromArray(w, new Shape(outF, inF), Sim.Device),
        };
        SameBytes(q, DeviceQuantize(Sim.Device, dev, bs, type, dq), $"{outF}x{inF} bs {bs} {type} dq {dq} {dtype}");
    }

    [Fact]
    public void Quantize_double_quant_over_several_nested_blocks_matches_host()
    {
        // 97·101 = 9797 elements at bs 32: 307 blocks → nested blocks of 256 + 51; the 4-bit last block is partial.
        const QuantType type = QuantType.Fp4;
        const int outF = 97, inF = 101, bs = 32;
        var w = Weights(23, outF, inF, bs, type);
        var q = HostQuantize(w, null, outF, inF, bs, type, dq: true);
        SameBytes(q, DeviceQuantize(Sim.Device, TOps.FromArray(w, new Shape(outF, inF), Sim.Device), bs, type, true), $"{type}");
    }

    [Fact]
    public void Quantize_at_warp_32_matches_host()
    {
        const int outF = 9, inF = 70, bs = 64;
        var w = Weights(5, outF, inF, bs, QuantType.Nf4);
        var bf16 = ToBf16(w);
        var q = HostQuantize(w, bf16, outF, inF, bs, QuantType.Nf4, dq: true);
        SameBytes(q, DeviceQuantize(Sim.Wide, TOps.FromArray(bf16, new Shape(outF, inF), Sim.Wide, DType.BF16), bs, QuantType.Nf4, true), "wide");
    }

    [Fact]
    public void Quantize_rejects_non_finite_values_naming_the_element()
    {
        var w = Weights(3, 4, 40, 64, QuantType.Nf4);
        w[77] = float.NaN;
        w[100] = float.PositiveInfinity;
        var e = Assert.Throws<InvalidDataException>(() =>
            DeviceQuantize(Sim.Device, TOps.FromArray(w, new Shape(4, 40), Sim.Device), 64, QuantType.Nf4, false));
        Assert.Contains("at element 77 (block 1)", e.Message);
        var host = Assert.Throws<QuantizationFormatException>(() => Quantizer4Bit.Quantize(w, 64, QuantType.Nf4, false));
        Assert.StartsWith(host.Message, e.Message);
    }

    [Fact]
    public void Quantize_checks_its_arguments()
    {
        var w = TOps.Zeros(new Shape(2, 32), DType.F32, Sim.Device);
        var b = (IQuantizer4Bit)Sim.Backend;
        Assert.Throws<ArgumentException>(() => b.Quantize4Bit(w, QuantTables.Nf4.ToArray(), 48, null, "w"));
        Assert.Throws<ArgumentException>(() => b.Quantize4Bit(w, new float[15], 64, null, "w"));
        Assert.Throws<ArgumentException>(() => b.Quantize4Bit(w, QuantTables.Nf4.ToArray(), 64, new float[10], "w"));
        Assert.Throws<InvalidOperationException>(() => b.Quantize4Bit(TOps.Zeros(new Shape(2, 32), DType.F32, Sim.Cpu), QuantTables.Nf4.ToArray(), 64, null, "w"));
    }

    [Theory]
    [InlineData(DType.BF16, true)]
    [InlineData(DType.F32, false)]
    public void QuantizeInPlace_on_the_device_equals_the_host_path(DType dtype, bool dq)
    {
        // VlmTune.Nn.FourBit.QuantizeInPlace (what ModelQuantizer runs at load): the device quantises through
        // IQuantizer4Bit, the CPU through VlmTune.Quantization; both layers end with the same bytes.
        const int outF = 6, inF = 50, bs = 64;
        var w = TOps.ToDType(TOps.FromArray(Weights(61, outF, inF, bs, QuantType.Nf4), new Shape(outF, inF), Sim.Cpu), dtype);
        var cpu = new VlmTune.Nn.Linear("layer", w, null);
        var dev = new VlmTune.Nn.Linear("layer", w.To(Sim.Device), null);
        VlmTune.Nn.FourBit.QuantizeInPlace(cpu, QuantType.Nf4, bs, dq);
        VlmTune.Nn.FourBit.QuantizeInPlace(dev, QuantType.Nf4, bs, dq);
        var (a, b) = (cpu.Quantized!, dev.Quantized!);
        Assert.Equal("layer.weight", b.Name);
        Assert.Equal(a.Packed.ToArray<byte>(), b.Packed.ToArray<byte>());
        Assert.Equal(a.Code, b.Code);
        Assert.Equal(a.Offset, b.Offset);
        Assert.Equal(dtype, a.ValueDType);   // the quant state's dtype: values round to it before the matmul
        Assert.Equal(dtype, b.ValueDType);
        if (dq)
        {
            Assert.Equal(a.QuantizedAbsmax!.ToArray<byte>(), b.QuantizedAbsmax!.ToArray<byte>());
            Assert.Equal(Bits(a.NestedAbsmax!.ToArray<float>()), Bits(b.NestedAbsmax!.ToArray<float>()));
            Assert.Equal(a.NestedCode, b.NestedCode);
        }
        else
        {
            Assert.Equal(Bits(a.Absmax!.ToArray<float>()), Bits(b.Absmax!.ToArray<float>()));
        }
        var bad = TOps.FromArray(Enumerable.Repeat(float.NaN, outF * inF).ToArray(), new Shape(outF, inF), Sim.Device);
        Assert.Throws<QuantizationFormatException>(() => VlmTune.Nn.FourBit.QuantizeInPlace(new VlmTune.Nn.Linear("nan", bad, null), QuantType.Nf4, bs, false));
    }

    // ---- dequantisation ----

    [Theory]
    [InlineData(7, 45, 64, QuantType.Nf4, false)]
    [InlineData(7, 45, 64, QuantType.Fp4, true)]
    [InlineData(5, 301, 256, QuantType.Nf4, true)]
    [InlineData(5, 301, 256, QuantType.Fp4, false)]
    [InlineData(97, 101, 32, QuantType.Nf4, true)]   // two nested blocks
    public void Dequantize_is_bit_identical_to_cpu_and_reference(int outF, int inF, int bs, QuantType type, bool dq)
    {
        var q = HostQuantize(Weights(7, outF, inF, bs, type), null, outF, inF, bs, type, dq);
        var cpu = TOps.Empty(new Shape(outF, inF), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.Dequantize4Bit(ToWeight(q, Sim.Cpu), cpu);
        var reference = new float[q.Count];
        Quantizer4Bit.DequantizeRef(q, reference);
        var wd = ToWeight(q, Sim.Device);
        var dev = TOps.Empty(new Shape(outF, inF), DType.F32, Sim.Device);
        Sim.Backend.Dequantize4Bit(wd, dev);
        var got = Bits(dev.ToArray<float>());
        Assert.Equal(Bits(cpu.ToArray<float>()), got);
        Assert.Equal(Bits(reference), got);

        var devBf16 = TOps.Empty(new Shape(outF, inF), DType.BF16, Sim.Device);
        Sim.Backend.Dequantize4Bit(wd, devBf16);
        var hostBf16 = new ushort[q.Count];
        Quantizer4Bit.DequantizeBf16(q, hostBf16);
        Assert.Equal(hostBf16, devBf16.ToArray<ushort>());
    }

    [Theory]
    [InlineData(7, 45, 64, QuantType.Nf4, true, DType.BF16)]
    [InlineData(5, 301, 256, QuantType.Fp4, false, DType.BF16)]
    [InlineData(5, 301, 128, QuantType.Nf4, true, DType.F16)]
    public void Dequantize_rounds_to_the_quant_state_dtype_on_both_backends(int outF, int inF, int bs, QuantType type, bool dq, DType valueDType)
    {
        // bitsandbytes' dequantize_4bit returns the quant state's dtype: code · scale in f32, rounded to bf16/f16.
        var q = HostQuantize(Weights(11, outF, inF, bs, type), null, outF, inF, bs, type, dq);
        var reference = new float[q.Count];
        Quantizer4Bit.DequantizeRef(q, reference);
        var expected = reference.Select(v => valueDType == DType.BF16 ? Num.Bf16ToFloat(Num.FloatToBf16(v)) : (float)(System.Half)v).ToArray();
        var cpu = TOps.Empty(new Shape(outF, inF), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.Dequantize4Bit(ToWeight(q, Sim.Cpu, valueDType), cpu);
        var dev = TOps.Empty(new Shape(outF, inF), DType.F32, Sim.Device);
        Sim.Backend.Dequantize4Bit(ToWeight(q, Sim.Device, valueDType), dev);
        Assert.Equal(Bits(expected), Bits(cpu.ToArray<float>()));
        Assert.Equal(Bits(expected), Bits(dev.ToArray<float>()));
        Assert.NotEqual(Bits(reference), Bits(expected));   // the rounding is visible on these weights

        var x = Sim.Rand(23, 3, inF);
        var yc = TOps.Empty(new Shape(3, outF), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.MatMul4Bit(x, ToWeight(q, Sim.Cpu, valueDType), yc, false);
        var yd = TOps.Empty(new Shape(3, outF), DType.F32, Sim.Device);
        Sim.Backend.MatMul4Bit(x.To(Sim.Device), ToWeight(q, Sim.Device, valueDType), yd, false);
        Close.Tensors(yc, yd, 1e-5f, 1e-6f, "y");
    }

    [Fact]
    public void Dequantize_of_a_device_quantised_weight_equals_the_host_round_trip()
    {
        const int outF = 6, inF = 77, bs = 64;
        var w = Weights(9, outF, inF, bs, QuantType.Fp4);
        var q = HostQuantize(w, null, outF, inF, bs, QuantType.Fp4, dq: true);
        var wd = DeviceQuantize(Sim.Device, TOps.FromArray(w, new Shape(outF, inF), Sim.Device), bs, QuantType.Fp4, true);
        var expected = new float[q.Count];
        Quantizer4Bit.Dequantize(q, expected);
        Assert.Equal(Bits(expected), Bits(TOps.Dequantize(wd).ToArray<float>()));
    }

    [Fact]
    public void Dequantize_checks_the_weight_and_destination()
    {
        var q = HostQuantize(Weights(1, 4, 40, 64, QuantType.Nf4), null, 4, 40, 64, QuantType.Nf4, false);
        var wd = ToWeight(q, Sim.Device);
        Assert.Throws<ShapeException>(() => Sim.Backend.Dequantize4Bit(wd, TOps.Empty(new Shape(40, 4), DType.F32, Sim.Device)));
        Assert.Throws<ShapeException>(() => Sim.Backend.Dequantize4Bit(wd, TOps.Empty(new Shape(4, 40), DType.F16, Sim.Device)));
        var bad = new Packed4BitWeight
        {
            OutFeatures = 4, InFeatures = 40, Blocksize = 64, Code = wd.Code, Packed = wd.Packed,
            Absmax = TOps.Zeros(new Shape(2), DType.F32, Sim.Device), Name = "bad",
        };
        var e = Assert.Throws<ShapeException>(() => Sim.Backend.Dequantize4Bit(bad, TOps.Empty(new Shape(4, 40), DType.F32, Sim.Device)));
        Assert.Contains("absmax", e.Message);
    }

    // ---- products ----

    sealed class TileLimit : IDisposable
    {
        readonly long _saved = Sim.Backend.Quant4BitScratchElements;
        public TileLimit(long elements) => Sim.Backend.Quant4BitScratchElements = elements;
        public void Dispose() => Sim.Backend.Quant4BitScratchElements = _saved;
    }

    [Theory]
    [InlineData(5, 7, 45, 64, QuantType.Nf4, false, false, 0L)]
    [InlineData(3, 13, 37, 64, QuantType.Fp4, true, true, 0L)]
    [InlineData(4, 13, 37, 32, QuantType.Nf4, true, true, 5 * 37L)]   // tiles of 5 rows (5, 5, 3), accumulate
    [InlineData(2, 11, 40, 64, QuantType.Nf4, false, false, 40L)]     // one row per tile
    public void MatMul4Bit_matches_cpu(int n, int outF, int inF, int bs, QuantType type, bool dq, bool accumulate, long tile)
    {
        var q = HostQuantize(Weights(13, outF, inF, bs, type), null, outF, inF, bs, type, dq);
        var x = Sim.Rand(17, n, inF);
        var y0 = Sim.Rand(19, n, outF);
        var yc = TOps.Contiguous(y0.To(Sim.Cpu));
        Sim.Cpu.Backend.MatMul4Bit(x, ToWeight(q, Sim.Cpu), yc, accumulate);
        var yd = y0.To(Sim.Device);
        using (new TileLimit(tile == 0 ? Sim.Backend.Quant4BitScratchElements : tile))
            Sim.Backend.MatMul4Bit(x.To(Sim.Device), ToWeight(q, Sim.Device), yd, accumulate);
        Close.Tensors(yc, yd, 1e-5f, 1e-6f, "y");
    }

    [Theory]
    [InlineData(5, 7, 45, 64, QuantType.Nf4, true, 0L)]
    [InlineData(3, 13, 37, 32, QuantType.Fp4, false, 4 * 37L)]   // tiles of 4 rows
    public void MatMul4BitInputGrad_matches_cpu(int n, int outF, int inF, int bs, QuantType type, bool dq, long tile)
    {
        var q = HostQuantize(Weights(29, outF, inF, bs, type), null, outF, inF, bs, type, dq);
        var dy = Sim.Rand(31, n, outF);
        var dxc = TOps.Empty(new Shape(n, inF), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.MatMul4BitInputGrad(dy, ToWeight(q, Sim.Cpu), dxc);
        var dxd = TOps.Full(new Shape(n, inF), float.NaN, Sim.Device); // written, not accumulated
        using (new TileLimit(tile == 0 ? Sim.Backend.Quant4BitScratchElements : tile))
            Sim.Backend.MatMul4BitInputGrad(dy.To(Sim.Device), ToWeight(q, Sim.Device), dxd);
        Close.Tensors(dxc, dxd, 1e-5f, 1e-6f, "dx");
    }

    [Theory]
    [InlineData(false, 0L)]
    [InlineData(true, 3 * 45L)]
    public void Bf16_activations_use_a_bf16_scratch(bool inputGrad, long tile)
    {
        // Expected: the CPU product of the bf16-rounded activations and the dequantised weight rounded to bf16, in f32.
        const int n = 4, outF = 7, inF = 45, bs = 64;
        var q = HostQuantize(Weights(37, outF, inF, bs, QuantType.Nf4), null, outF, inF, bs, QuantType.Nf4, dq: true);
        var wc = TOps.Empty(new Shape(outF, inF), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.Dequantize4Bit(ToWeight(q, Sim.Cpu), wc);
        var wb = TOps.ToDType(TOps.ToDType(wc, DType.BF16), DType.F32);
        var a = TOps.ToDType(Sim.Rand(41, n, inputGrad ? outF : inF), DType.BF16);
        var af = TOps.ToDType(a, DType.F32);
        var expected = TOps.Zeros(new Shape(1, n, inputGrad ? inF : outF), DType.F32, Sim.Cpu);
        Sim.Cpu.Backend.MatMul(TOps.Reshape(af, 1, n, -1), false, TOps.Reshape(wb, 1, outF, inF), !inputGrad, expected, 1f, false);
        var got = TOps.Empty(new Shape(n, inputGrad ? inF : outF), DType.F32, Sim.Device);
        using (new TileLimit(tile == 0 ? Sim.Backend.Quant4BitScratchElements : tile))
        {
            if (inputGrad) Sim.Backend.MatMul4BitInputGrad(a.To(Sim.Device), ToWeight(q, Sim.Device), got);
            else Sim.Backend.MatMul4Bit(a.To(Sim.Device), ToWeight(q, Sim.Device), got, false);
        }
        Close.Tensors(TOps.Reshape(expected, n, -1), got, 1e-5f, 1e-6f, inputGrad ? "dx" : "y");
    }

    [Fact]
    public void Linear4Bit_forward_and_backward_through_ops_match_cpu()
    {
        const int outF = 9, inF = 33, bs = 64;
        var q = HostQuantize(Weights(43, outF, inF, bs, QuantType.Nf4), null, outF, inF, bs, QuantType.Nf4, dq: false);
        var x = Sim.Rand(47, 2, 3, inF);
        var bias = Sim.Rand(53, outF);
        var g = Sim.Rand(59, 2, 3, outF);
        Tensor Run(Device d, out Tensor dx)
        {
            var xd = x.To(d).RequireGrad();
            var y = TOps.Linear4Bit(xd, ToWeight(q, d), bias.To(d));
            y.Backward(g.To(d));
            dx = xd.Grad!;
            return y;
        }
        var yc = Run(Sim.Cpu, out var dxc);
        var yd = Run(Sim.Device, out var dxd);
        Close.Tensors(yc, yd, 1e-5f, 1e-6f, "y");
        Close.Tensors(dxc, dxd, 1e-5f, 1e-5f, "dx");
    }

    // ---- PTX ----

    /// <summary>
    /// The kernels whose float results must equal the host bit for bit. ILGPU writes f32 mul/add/sub without a rounding
    /// modifier, which lets ptxas contract a mul feeding an add into one fma; the kernels use inline mul.rn/add.rn/sub.rn
    /// instead (ILGPU's own plain ops remain only in the not-taken simulator branch, which ptxas removes), and nothing
    /// is approximate. With ptxas (CudaTools, .ci/fetch-cuda-tools.sh) the sm_90 dequantiser is checked for FFMA and for
    /// local memory: at O1 (what CudaRuntime compiles with) no FFMA; at O2 (the PTX gate's level) no FFMA and no local
    /// memory either — at O1 ILGPU keeps each inline-asm output in a local slot, which ptxas leaves as dead STL stores.
    /// </summary>
    [Theory]
    [InlineData(nameof(Quant4BitKernels.Dequantize), "mul.rn.f32,add.rn.f32", 2)]
    [InlineData(nameof(Quant4BitKernels.Dequantize), "mul.rn.f32,add.rn.f32", 1)]
    [InlineData(nameof(Quant4BitKernels.QuantizeBlocks), "mul.rn.f32,div.rn.f32", 2)]
    [InlineData(nameof(Quant4BitKernels.MeanOffset), "add.rn.f64,div.rn.f64", 2)]
    [InlineData(nameof(Quant4BitKernels.NestedQuantize), "sub.rn.f32,mul.rn.f32", 2)]
    public void Ptx_has_only_ieee_rounded_float_arithmetic(string kernel, string required, int level)
    {
        string ptx = Ptx(kernel, level == 1 ? OptimizationLevel.O1 : OptimizationLevel.O2);
        var dump = Environment.GetEnvironmentVariable("VLMTUNE_DUMP_PTX");
        if (!string.IsNullOrEmpty(dump))
        {
            Directory.CreateDirectory(dump);
            File.WriteAllText(Path.Combine(dump, $"{kernel}.O{level}.ptx"), ptx);
        }
        var lines = ptx.Split('\n').Select(l => l.Trim()).ToList();
        Assert.DoesNotContain(lines, l => l.StartsWith("fma.") || l.StartsWith("mad.f") || l.Contains(".approx.") || l.Contains(".full.") || l.Contains(".ftz"));
        foreach (var op in required.Split(','))
            Assert.Contains(lines, l => l.StartsWith(op));
        if (kernel == nameof(Quant4BitKernels.Dequantize))
        {
            string ptxas = Path.Combine(CudaTools.Root, "usr/bin/ptxas"), objdump = Path.Combine(CudaTools.Root, "usr/bin/cuobjdump");
            string dir = Directory.CreateTempSubdirectory("vlmtune-q4-ptx").FullName;
            try
            {
                File.WriteAllText(Path.Combine(dir, "k.ptx"), ptx);
                Run(ptxas, $"-arch=sm_90 -o {dir}/k.cubin {dir}/k.ptx");
                string sass = Run(objdump, $"-sass {dir}/k.cubin");
                Assert.Contains("FMUL", sass);
                Assert.Contains("FADD", sass);
                Assert.DoesNotContain("FFMA", sass);
                if (level == 2)
                {
                    Assert.DoesNotContain("STL", sass);
                    Assert.DoesNotContain("LDL", sass);
                }
            }
            finally
            {
                Directory.Delete(dir, true);
            }
        }
    }

    static string Run(string exe, string args)
    {
        var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(exe, args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        })!;
        string stdout = p.StandardOutput.ReadToEnd(), stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"{Path.GetFileName(exe)} {args}: exit {p.ExitCode}: {stderr}");
        return stdout;
    }

    /// <summary>PTX backends for the PTX tests, one per level (creating a context is the slow part); they live for the process.</summary>
    static readonly Dictionary<OptimizationLevel, PTXBackend> PtxBackends = new();

    static string Ptx(string kernel, OptimizationLevel level)
    {
        var method = typeof(Quant4BitKernels).GetMethod(kernel)!;
        lock (PtxBackends)
        {
            if (!PtxBackends.TryGetValue(level, out var backend))
            {
                var context = Context.Create(b => b.Optimize(level));
                PtxBackends[level] = backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, CudaInstructionSet.ISA_78, null);
            }
            var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(method), KernelSpecialization.Empty);
            return compiled.PTXAssembly;
        }
    }
}
