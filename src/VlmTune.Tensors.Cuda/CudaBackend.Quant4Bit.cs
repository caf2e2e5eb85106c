using System.Numerics;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using VlmTune.Tensors.Cuda.Kernels;
using VlmTune.Tensors.Quantization;

namespace VlmTune.Tensors.Cuda;

// Quant4Bit family. Legend: N = rows of x, in/out = the weight's (out, in), T = tile rows.
// A 4-bit weight is dequantised into one reusable scratch buffer in the compute dtype (bf16 when the activation is
// bf16, else f32) — the whole weight when out·in fits Quant4BitScratchElements, else T rows at a time — then one GEMM
// per tile through MatMul. Per element the value is code[nibble] · scale[block], rounded to the weight's ValueDType,
// with the CPU backend's exact roundings (Quant4BitKernels.Dequantize). Quantize4Bit (IQuantizer4Bit) quantises a float weight on the device, byte-identical
// to VlmTune.Quantization's Quantizer4Bit.
public sealed partial class CudaBackend : IQuantizer4Bit
{
    Action<KernelConfig, Q4View, long, long, KTensor>? _dequant4;
    Action<KernelConfig, KTensor, KTensor, int, int, int, int>? _scatterColumns;
    Action<KernelConfig, KTensor, int, ArrayView<float>, int, ArrayView<byte>, int, ArrayView<byte>, ArrayView<float>, ArrayView<long>>? _quant4;
    Action<KernelConfig, ArrayView<float>, int, ArrayView<float>>? _meanOffset;
    Action<KernelConfig, ArrayView<float>, int, float, ArrayView<float>, int, ArrayView<byte>, ArrayView<float>>? _nestedQuant;

    CudaStorage? _q4Scratch, _q4Dummy;
    readonly Dictionary<string, Tensor> _q4Tables = new(StringComparer.Ordinal);

    /// <summary>Largest dequantised tile (elements) of a 4-bit weight; larger weights are processed in row tiles.</summary>
    internal long Quant4BitScratchElements { get; set; } = 1L << 25;

    /// <summary>y (N, out) (+)= x (N, in) · dequant(w)ᵀ; x f32 or bf16 (the scratch takes its dtype), y f32 or bf16.</summary>
    public void MatMul4Bit(Tensor x, Packed4BitWeight w, Tensor y, bool accumulate)
    {
        try
        {
            MatMul4BitCore(x, w, y, accumulate);
        }
        finally
        {
            KeepAlive(x, y); // and the weight's tensors: kernel views hold buffers, not storages
            GC.KeepAlive(w);
        }
    }

    void MatMul4BitCore(Tensor x, Packed4BitWeight w, Tensor y, bool accumulate)
    {
        var (n, inF) = x.Shape.Dims2();
        int outF = w.OutFeatures;
        if (inF != w.InFeatures || y.Shape != new Shape(n, outF))
            throw new ShapeException($"matmul4bit: x {x.Shape} · weight {w.Name} ({w.OutFeatures},{w.InFeatures})ᵀ does not give y {y.Shape}");
        CheckActivation(x, "matmul4bit x");
        CheckActivation(y, "matmul4bit y");
        var wv = Q4(w);
        if (n == 0 || outF == 0) return;
        if (inF == 0)
        {
            if (!accumulate) Zero(y);
            return;
        }
        int tile = TileRows(outF, inF);
        var x3 = As3(x, n, inF);
        if (tile == outF)
        {
            var s = Scratch(x.DType, outF, inF);
            DequantRows(wv, inF, 0, outF, s);
            MatMul(x3, false, s, true, As3(y, n, outF), 1f, accumulate);
            return;
        }
        // Row tiles: y[:, r0:r0+T] is not contiguous, so each tile's product goes through t (N, T) into its columns.
        using var t = Ops.Empty(new Shape(n * tile), DType.F32, _device).Storage;
        for (int r0 = 0; r0 < outF; r0 += tile)
        {
            int rows = Math.Min(tile, outF - r0);
            var s = Scratch(x.DType, rows, inF);
            DequantRows(wv, inF, r0, rows, s);
            var tv = new Tensor(t, new Shape(1, n, rows), [(long)n * rows, rows, 1], 0, DType.F32);
            MatMul(x3, false, s, true, tv, 1f, false);
            _scatterColumns ??= Accelerator.LoadStreamKernel<KTensor, KTensor, int, int, int, int>(Quant4BitKernels.ScatterColumns);
            _scatterColumns(Grid(tv.Numel), K(tv), K(y), outF, r0, rows, accumulate ? 1 : 0);
        }
    }

    /// <summary>dx (N, in) = dy (N, out) · dequant(w) (written, not accumulated); dy f32 or bf16, dx f32 or bf16.</summary>
    public void MatMul4BitInputGrad(Tensor dy, Packed4BitWeight w, Tensor dx)
    {
        try
        {
            MatMul4BitInputGradCore(dy, w, dx);
        }
        finally
        {
            KeepAlive(dy, dx);
            GC.KeepAlive(w);
        }
    }

    void MatMul4BitInputGradCore(Tensor dy, Packed4BitWeight w, Tensor dx)
    {
        var (n, outF) = dy.Shape.Dims2();
        int inF = w.InFeatures;
        if (outF != w.OutFeatures || dx.Shape != new Shape(n, inF))
            throw new ShapeException($"matmul4bit input grad: dy {dy.Shape} · weight {w.Name} ({w.OutFeatures},{w.InFeatures}) does not give dx {dx.Shape}");
        CheckActivation(dy, "matmul4bit dy");
        CheckActivation(dx, "matmul4bit dx");
        var wv = Q4(w);
        if (n == 0 || inF == 0) return;
        if (outF == 0)
        {
            Zero(dx);
            return;
        }
        int tile = TileRows(outF, inF);
        var dx3 = As3(dx, n, inF);
        if (tile == outF)
        {
            var s = Scratch(dy.DType, outF, inF);
            DequantRows(wv, inF, 0, outF, s);
            MatMul(As3(dy, n, outF), false, s, false, dx3, 1f, false);
            return;
        }
        // Row tiles: dx += dy[:, r0:r0+T] · tile (MatMul stages the strided dy columns).
        for (int r0 = 0; r0 < outF; r0 += tile)
        {
            int rows = Math.Min(tile, outF - r0);
            var s = Scratch(dy.DType, rows, inF);
            DequantRows(wv, inF, r0, rows, s);
            var cols = new Tensor(dy.Storage, new Shape(1, n, rows), [(long)n * outF, outF, 1], dy.Offset + r0, dy.DType);
            MatMul(cols, false, s, false, dx3, 1f, accumulate: r0 > 0);
        }
    }

    /// <summary>The whole weight into destination (out, in), contiguous f32 or bf16 (the f32 value rounded to nearest even).</summary>
    public void Dequantize4Bit(Packed4BitWeight w, Tensor destination)
    {
        if (destination.Shape != new Shape(w.OutFeatures, w.InFeatures) || destination.DType is not (DType.F32 or DType.BF16))
            throw new ShapeException($"dequantize: destination {destination.DType.Name()} {destination.Shape} for weight ({w.OutFeatures},{w.InFeatures})");
        Contig(destination, "dequantize destination");
        var wv = Q4(w);
        if (w.Count == 0) return;
        DequantRows(wv, w.InFeatures, 0, w.OutFeatures, destination);
        KeepAlive(destination);
        GC.KeepAlive(w);
    }

    // ---- device quantisation ----

    public Packed4BitWeight Quantize4Bit(Tensor weight, float[] code, int blocksize, float[]? nestedCode, string? name)
    {
        var (outF, inF) = weight.Shape.Dims2();
        if (!ReferenceEquals(weight.Device, _device))
            throw new InvalidOperationException($"quantize4bit: {name} is on {weight.Device}, not on {_device}");
        if (!weight.DType.IsFloat()) throw new ShapeException($"quantize4bit: {name} must be a float tensor, got {weight.DType.Name()}");
        Contig(weight, $"quantize4bit weight {name}");
        if (code.Length != 16) throw new ArgumentException($"quantize4bit: the code table has {code.Length} values, 16 are needed", nameof(code));
        if (blocksize < 32 || blocksize > 4096 || !BitOperations.IsPow2(blocksize))
            throw new ArgumentException($"quantize4bit: blocksize {blocksize} is not supported; use a power of two from 32 to 4096 (default 64)", nameof(blocksize));
        if (nestedCode != null && nestedCode.Length != 256)
            throw new ArgumentException($"quantize4bit: the nested code has {nestedCode.Length} values, 256 are needed", nameof(nestedCode));

        long count = (long)outF * inF;
        int blocks = checked((int)((count + blocksize - 1) / blocksize));
        var (mids, sortedToCode, zeroCode) = CodeSearchOf(code);
        var packed = Ops.Empty(new Shape(checked((int)((count + 1) / 2))), DType.U8, _device);
        var absmax = Ops.Empty(new Shape(blocks), DType.F32, _device);
        if (blocks > 0)
        {
            var midsT = Ops.FromArray(mids, new Shape(mids.Length), _device);
            var s2c = Ops.FromArray(sortedToCode, new Shape(sortedToCode.Length), _device);
            var badT = Ops.FromArray([long.MaxValue], new Shape(1), _device);
            _quant4 ??= Accelerator.LoadStreamKernel<KTensor, int, ArrayView<float>, int, ArrayView<byte>, int, ArrayView<byte>, ArrayView<float>, ArrayView<long>>(
                Quant4BitKernels.QuantizeBlocks);
            _quant4(WarpRows(blocks), K(weight), blocksize, View<float>(midsT), mids.Length, View<byte>(s2c), zeroCode,
                View<byte>(packed), View<float>(absmax), View<long>(badT));
            KeepAlive(weight, midsT, s2c, badT, packed, absmax);
            long at = badT.ToArray<long>()[0];
            foreach (var t in (Tensor[])[midsT, s2c, badT]) t.Storage.Dispose();
            if (at != long.MaxValue)
            {
                float v = new Tensor(weight.Storage, new Shape(1), [1], weight.Offset + at, weight.DType).ToFloatArray()[0];
                throw new InvalidDataException($"cannot quantise non-finite value {v} at element {at} (block {at / blocksize}){(name == null ? "" : $" of {name}")}");
            }
        }
        if (nestedCode == null)
            return new Packed4BitWeight
            {
                OutFeatures = outF, InFeatures = inF, Blocksize = blocksize, Code = code, Packed = packed, Absmax = absmax, Name = name,
                ValueDType = weight.DType,
            };

        int nestedBlocks = (blocks + Packed4BitWeight.NestedBlocksize - 1) / Packed4BitWeight.NestedBlocksize;
        var qabsmax = Ops.Empty(new Shape(blocks), DType.U8, _device);
        var nested = Ops.Empty(new Shape(nestedBlocks), DType.F32, _device);
        float offset = 0f;
        if (blocks > 0)
        {
            var off = Ops.Empty(new Shape(1), DType.F32, _device);
            _meanOffset ??= Accelerator.LoadStreamKernel<ArrayView<float>, int, ArrayView<float>>(Quant4BitKernels.MeanOffset);
            _meanOffset(new KernelConfig(1, GroupSize), View<float>(absmax), blocks, View<float>(off));
            offset = off.ToArray<float>()[0];
            off.Storage.Dispose();
            _nestedQuant ??= Accelerator.LoadStreamKernel<ArrayView<float>, int, float, ArrayView<float>, int, ArrayView<byte>, ArrayView<float>>(
                Quant4BitKernels.NestedQuantize);
            _nestedQuant(WarpRows(nestedBlocks), View<float>(absmax), blocks, offset, View<float>(Table(nestedCode)), nestedCode.Length,
                View<byte>(qabsmax), View<float>(nested));
        }
        absmax.Storage.Dispose();
        return new Packed4BitWeight
        {
            OutFeatures = outF, InFeatures = inF, Blocksize = blocksize, Code = code, Packed = packed, QuantizedAbsmax = qabsmax,
            NestedAbsmax = nested, NestedCode = nestedCode, Offset = offset, Name = name, ValueDType = weight.DType,
        };
    }

    /// <summary>
    /// CodeSearch's tables for a code: (V−1) f32 midpoints of the V sorted distinct values (−0 counted as +0), the
    /// first table index of each sorted value, and the first index holding 0 (the pad nibble).
    /// </summary>
    internal static (float[] Midpoints, byte[] SortedToCode, int ZeroCode) CodeSearchOf(float[] table)
    {
        var distinct = new SortedSet<float>();
        foreach (float v in table) distinct.Add(v == 0f ? 0f : v);
        float[] sorted = [.. distinct];
        var mids = new float[sorted.Length - 1];
        for (int j = 0; j < mids.Length; j++) mids[j] = (sorted[j] + sorted[j + 1]) / 2f;
        var map = new byte[sorted.Length];
        for (int j = 0; j < sorted.Length; j++) map[j] = (byte)Array.IndexOf(table, sorted[j]);
        int zero = Array.IndexOf(table, 0f);
        if (zero < 0) throw new ArgumentException("quantize4bit: the code table has no 0 value (needed to pad an odd element count)", nameof(table));
        return (mids, map, zero);
    }

    // ---- helpers ----

    /// <summary>Rows [r0, r0 + rows) of the weight (flattened elements [r0·in, (r0+rows)·in)) into dst (contiguous f32/bf16).</summary>
    void DequantRows(in Q4View wv, int inF, int r0, int rows, Tensor dst)
    {
        long start = (long)r0 * inF, count = (long)rows * inF;
        if (count == 0) return;
        _dequant4 ??= Accelerator.LoadStreamKernel<Q4View, long, long, KTensor>(Quant4BitKernels.Dequantize);
        _dequant4(Grid(((start + count - 1) >> 1) - (start >> 1) + 1), wv, start, count, K(dst));
    }

    /// <summary>The kernel view of w after checking every array against its shape.</summary>
    Q4View Q4(Packed4BitWeight w)
    {
        if (!ReferenceEquals(w.Device, _device)) throw new InvalidOperationException($"cuda backend: 4-bit weight {w.Name} is on {w.Device}, not on {_device}");
        int bs = w.Blocksize;
        if (bs <= 0 || !BitOperations.IsPow2(bs)) throw new ShapeException($"4-bit weight {w.Name}: blocksize {bs} is not a power of two");
        long blocks = w.BlockCount;
        void Expect(Tensor? t, DType dt, long numel, string what)
        {
            if (t == null || t.DType != dt || t.Numel != numel || !t.IsContiguous || !ReferenceEquals(t.Device, _device))
                throw new ShapeException($"4-bit weight {w.Name}: {what} must be a contiguous {dt.Name()} ({numel}) on {_device}, got {(t == null ? "none" : $"{t.DType.Name()} {t.Shape} on {t.Device}")}");
        }
        Expect(w.Packed, DType.U8, (w.Count + 1) / 2, "packed");
        if (w.Code.Length != 16) throw new ShapeException($"4-bit weight {w.Name}: code has {w.Code.Length} values, 16 are needed");
        var v = new Q4View
        {
            Packed = View<byte>(w.Packed),
            Code = View<float>(Table(w.Code)),
            BlockShift = BitOperations.Log2((uint)bs),
            Offset = w.Offset,
            DoubleQuant = w.DoubleQuant ? 1 : 0,
            ValueKind = w.ValueDType switch
            {
                DType.F32 => KTensor.F32,
                DType.BF16 => KTensor.BF16,
                DType.F16 => KTensor.F16,
                var d => throw new ShapeException($"4-bit weight {w.Name}: value dtype {d.Name()} is not f32, bf16 or f16"),
            },
            Absmax = Dummy<float>(),
            QAbsmax = Dummy<byte>(),
            Nested = Dummy<float>(),
            NestedCode = Dummy<float>(),
        };
        if (w.DoubleQuant)
        {
            Expect(w.QuantizedAbsmax, DType.U8, blocks, "quantized absmax");
            Expect(w.NestedAbsmax, DType.F32, (blocks + Packed4BitWeight.NestedBlocksize - 1) / Packed4BitWeight.NestedBlocksize, "nested absmax");
            if (w.NestedCode is not { Length: 256 }) throw new ShapeException($"4-bit weight {w.Name}: nested code has {w.NestedCode?.Length ?? 0} values, 256 are needed");
            v.QAbsmax = View<byte>(w.QuantizedAbsmax!);
            v.Nested = View<float>(w.NestedAbsmax!);
            v.NestedCode = View<float>(Table(w.NestedCode));
        }
        else
        {
            Expect(w.Absmax, DType.F32, blocks, "absmax");
            v.Absmax = View<float>(w.Absmax!);
        }
        return v;
    }

    /// <summary>A device copy of a small constant table, uploaded once per distinct content.</summary>
    Tensor Table(float[] values)
    {
        string key = Convert.ToBase64String(MemoryMarshal.AsBytes(values.AsSpan()));
        if (!_q4Tables.TryGetValue(key, out var t))
        {
            t = Ops.FromArray(values, new Shape(values.Length), _device);
            _q4Tables[key] = t;
        }
        return t;
    }

    ArrayView<T> Dummy<T>() where T : unmanaged
    {
        _q4Dummy ??= new CudaStorage(_device, _allocator, 1024);
        return _q4Dummy.View.SubView(0, 1024).Cast<T>();
    }

    /// <summary>The scratch as a (1, rows, in) tensor of dtype dt (grown when needed, reused across calls: one stream).</summary>
    Tensor Scratch(DType dt, int rows, int inF)
    {
        long bytes = (long)rows * inF * dt.Size();
        if (_q4Scratch == null || _q4Scratch.ByteLength < bytes)
        {
            _q4Scratch?.Dispose();
            _q4Scratch = new CudaStorage(_device, _allocator, bytes);
        }
        return new Tensor(_q4Scratch, new Shape(1, rows, inF), [(long)rows * inF, inF, 1], 0, dt);
    }

    int TileRows(int outF, int inF) => (int)Math.Clamp(Quant4BitScratchElements / inF, 1, outF);

    static Tensor As3(Tensor t, int rows, int cols) => new(t.Storage, new Shape(1, rows, cols), [(long)rows * cols, cols, 1], t.Offset, t.DType);

    static void CheckActivation(Tensor t, string what)
    {
        if (t.DType is not (DType.F32 or DType.BF16)) throw new ShapeException($"{what} must be f32 or bf16, got {t.DType.Name()}");
        Contig(t, what);
    }

    void Zero(Tensor t) => StorageOf(t).View.SubView(t.Offset * t.DType.Size(), t.Numel * t.DType.Size()).MemSetToZero(Stream);
}
