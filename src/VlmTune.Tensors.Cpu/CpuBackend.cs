using System.Numerics.Tensors;

namespace VlmTune.Tensors.Cpu;

/// <summary>
/// The managed CPU backend: f32 compute with SIMD (System.Numerics.Tensors and the blocked GEMM), multithreaded
/// over <see cref="Threads"/> workers. Kernels are grouped by family in the partial files beside this one;
/// each family keeps its forward and backward together. bf16 (and f16) tensors are widened to f32 scratch around
/// the f32 kernels and results rounded back (CpuBackend.Precision.cs).
/// </summary>
public sealed unsafe partial class CpuBackend : IBackend
{
    /// <summary>The process-wide CPU device (all cores).</summary>
    public static Device Device { get; } = new CpuBackend(Environment.ProcessorCount).AsDevice();

    readonly Device _device;
    public int Threads { get; }

    public CpuBackend(int threads)
    {
        Threads = Math.Max(1, threads);
        _device = new Device(DeviceKind.Cpu, 0, this);
    }

    /// <summary>The device this backend instance computes for (one per instance, e.g. a 1-thread CPU for benchmarks).</summary>
    public Device AsDevice() => _device;
    Device IBackend.Device => _device;
    public string Name => $"cpu ({Threads} threads)";

    /// <summary>Buffers of disposed storages, reused by later allocations of the same size (1 GiB at most).</summary>
    readonly CpuBufferPool _pool = new(1L << 30);

    public Storage Allocate(long bytes, bool zeroed) => new CpuStorage(_device, bytes, zeroed, _pool);

    /// <summary>Bytes of disposed buffers held for reuse now (for tests and logs).</summary>
    internal long PooledBytes => _pool.PooledBytes;

    public void Synchronize() { }

    // ---- pointers (SAFETY: CpuStorage arrays are pinned; offsets were bounds-checked when the view was made) ----

    static byte* Base(Tensor t) => ((CpuStorage)t.Storage).Pointer + t.Offset * t.DType.Size();
    static float* F(Tensor t) => (float*)Base(t);
    static Span<float> S(Tensor t) => new(F(t), checked((int)t.Numel));

    static void Contig(Tensor t, string what)
    {
        if (!t.IsContiguous) throw new InvalidOperationException($"cpu backend: {what} must be contiguous, got strides ({string.Join(",", t.Strides)}) for {t.Shape}");
    }

    // ---- memory ----

    public void CopyFromHost(ReadOnlySpan<byte> source, Tensor destination)
    {
        using var keep = Hold(destination);
        Contig(destination, "copy destination");
        source.CopyTo(new Span<byte>(Base(destination), checked((int)(destination.Numel * destination.DType.Size()))));
    }

    public void CopyToHost(Tensor source, Span<byte> destination)
    {
        using var keep = Hold(source);
        Contig(source, "copy source");
        new ReadOnlySpan<byte>(Base(source), checked((int)(source.Numel * source.DType.Size()))).CopyTo(destination);
    }

    public void Fill(Tensor destination, float value)
    {
        using var keep = Hold(destination);
        Contig(destination, "fill destination");
        switch (destination.DType)
        {
            case DType.F32: S(destination).Fill(value); break;
            case DType.BF16: new Span<ushort>(Base(destination), checked((int)destination.Numel)).Fill(Bf16.FromFloat(value)); break;
            case DType.F16: new Span<Half>(Base(destination), checked((int)destination.Numel)).Fill((Half)value); break;
            default: throw new ShapeException($"fill: a float destination is needed, got {destination.DType.Name()}");
        }
    }

    public void Copy(Tensor source, Tensor destination)
    {
        using var keep = Hold(source, destination);
        if (source.Shape != destination.Shape) throw new ShapeException($"copy: {source.Shape} into {destination.Shape}");
        if (source.Numel == 0) return;
        int rank = source.Rank;
        if (rank == 0)
        {
            CopyRun(source, 0, 0, destination, 0, 0, 1);
            return;
        }
        // Iterate over all but the innermost axis; the innermost run is copied/converted in one call.
        int inner = source.Shape.Dims[rank - 1];
        long outer = source.Numel / inner;
        long ss = source.Strides[rank - 1], ds = destination.Strides[rank - 1];
        Par.For((int)outer, Math.Max(1, 16384 / Math.Max(1, inner)), Threads, (start, end) =>
        {
                for (int o = start; o < end; o++)
            {
                long rem = o, so = source.Offset, dOff = destination.Offset;
                for (int a = rank - 2; a >= 0; a--)
                {
                    int d = source.Shape.Dims[a];
                    int i = (int)(rem % d);
                    rem /= d;
                    so += i * source.Strides[a];
                    dOff += i * destination.Strides[a];
                }
                CopyRun(source, so, ss, destination, dOff, ds, inner);
            }
        });
    }

    /// <summary>Copies n elements starting at element offsets (absolute, in elements) with strides, converting dtype.</summary>
    static void CopyRun(Tensor src, long so, long ss, Tensor dst, long dOff, long ds, int n)
    {
        byte* sp = ((CpuStorage)src.Storage).Pointer;
        byte* dp = ((CpuStorage)dst.Storage).Pointer;
        DType st = src.DType, dt = dst.DType;
        if (st == dt && ss == 1 && ds == 1)
        {
            int size = st.Size();
            Buffer.MemoryCopy(sp + so * size, dp + dOff * size, (long)n * size, (long)n * size);
            return;
        }
        if (st == DType.F32 && dt == DType.F32)
        {
            float* s = (float*)sp + so; float* d = (float*)dp + dOff;
            for (int i = 0; i < n; i++) d[i * ds] = s[i * ss];
            return;
        }
        bool intPath = !st.IsFloat() && !dt.IsFloat();
        for (int i = 0; i < n; i++)
        {
            long si = so + i * ss, di = dOff + i * ds;
            if (intPath) WriteLong(dp, dt, di, ReadLong(sp, st, si));
            else WriteFloat(dp, dt, di, ReadFloat(sp, st, si));
        }
    }

    static float ReadFloat(byte* p, DType t, long i) => t switch
    {
        DType.F32 => ((float*)p)[i],
        DType.BF16 => Bf16.ToFloat(((ushort*)p)[i]),
        DType.F16 => (float)((Half*)p)[i],
        DType.I32 => ((int*)p)[i],
        DType.I64 => ((long*)p)[i],
        DType.U8 => p[i],
        _ => throw new NotSupportedException(t.ToString()),
    };

    static void WriteFloat(byte* p, DType t, long i, float v)
    {
        switch (t)
        {
            case DType.F32: ((float*)p)[i] = v; break;
            case DType.BF16: ((ushort*)p)[i] = Bf16.FromFloat(v); break;
            case DType.F16: ((Half*)p)[i] = (Half)v; break;
            case DType.I32: ((int*)p)[i] = (int)v; break;
            case DType.I64: ((long*)p)[i] = (long)v; break;
            case DType.U8: p[i] = (byte)v; break;
            default: throw new NotSupportedException(t.ToString());
        }
    }

    static long ReadLong(byte* p, DType t, long i) => t switch
    {
        DType.I32 => ((int*)p)[i],
        DType.I64 => ((long*)p)[i],
        DType.U8 => p[i],
        _ => throw new NotSupportedException(t.ToString()),
    };

    static void WriteLong(byte* p, DType t, long i, long v)
    {
        switch (t)
        {
            case DType.I32: ((int*)p)[i] = checked((int)v); break;
            case DType.I64: ((long*)p)[i] = v; break;
            case DType.U8: p[i] = checked((byte)v); break;
            default: throw new NotSupportedException(t.ToString());
        }
    }

    /// <summary>Reads integer element i (contiguous i32/i64 tensor).</summary>
    static long Index(Tensor t, long i) => t.DType == DType.I64 ? ((long*)Base(t))[i] : ((int*)Base(t))[i];

    // ---- reductions ----

    public void Sum(Tensor x, bool[] reduce, Tensor y)
    {
        var y32 = Out(y, false);
        SumF32(W(x), reduce, y32);
        Store(y32, y);
    }

    void SumF32(Tensor x, bool[] reduce, Tensor y)
    {
        using var keep = Hold(x, y);
        Contig(x, "sum input");
        int rank = x.Rank;
        var ys = y.Shape.ContiguousStrides();
        float* xp = F(x), yp = F(y);
        int yn = (int)y.Numel;
        // Fast path: reduce leading axes only (e.g. bias gradients): y row += each x row.
        int firstKept = 0;
        while (firstKept < rank && reduce[firstKept]) firstKept++;
        bool leadingOnly = true;
        for (int a = firstKept; a < rank; a++) if (reduce[a]) leadingOnly = false;
        if (leadingOnly)
        {
            long rows = x.Numel / Math.Max(1, yn);
            var acc = new double[yn];
            for (long r = 0; r < rows; r++)
                for (int j = 0; j < yn; j++) acc[j] += xp[r * yn + j];
            for (int j = 0; j < yn; j++) yp[j] = (float)acc[j];
            return;
        }
        var sums = new double[yn];
        var idx = new int[rank];
        for (long e = 0; e < x.Numel; e++)
        {
            long yo = 0;
            for (int a = 0; a < rank; a++) if (!reduce[a]) yo += idx[a] * ys[a];
            sums[yo] += xp[e];
            for (int a = rank - 1; a >= 0; a--)
            {
                if (++idx[a] < x.Shape.Dims[a]) break;
                idx[a] = 0;
            }
        }
        for (int j = 0; j < yn; j++) yp[j] = (float)sums[j];
    }

    public void MaxLastAxis(Tensor x, Tensor y)
    {
        var y32 = Out(y, false);
        MaxLastAxisF32(W(x), y32);
        Store(y32, y);
    }

    void MaxLastAxisF32(Tensor x, Tensor y)
    {
        using var keep = Hold(x, y);
        int c = x.Shape[-1];
        int rows = (int)(x.Numel / c);
        float* xp = F(x), yp = F(y);
        for (int r = 0; r < rows; r++) yp[r] = TensorPrimitives.Max(new ReadOnlySpan<float>(xp + (long)r * c, c));
    }

    public void CountValid(Tensor labels, int ignoreIndex, Tensor count)
    {
        var c32 = Out(count, false);
        using (Hold(labels, c32))
        {
            long n = 0;
            for (long i = 0; i < labels.Numel; i++) if (Index(labels, i) != ignoreIndex) n++;
            *F(c32) = n;
        }
        Store(c32, count);
    }
}

public sealed unsafe partial class CpuBackend
{
    /// <summary>
    /// Keeps the given tensors (and so their pinned storage) reachable until the end of a kernel: kernels work on raw
    /// pointers, and a temporary argument (e.g. a fresh contiguous copy) would otherwise be collectable right after its
    /// pointer was taken. SAFETY: every method taking tensors opens one of these first.
    /// </summary>
    static KeepAlive Hold(params object?[] objects) => new(objects);

    readonly struct KeepAlive(object?[] objects) : IDisposable
    {
        public void Dispose() => GC.KeepAlive(objects);
    }
}
