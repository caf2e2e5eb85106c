using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda;

/// <summary>
/// The CUDA backend: every <see cref="IBackend"/> method is an ILGPU kernel (PTX on an NVIDIA GPU) or a cuBLAS call,
/// queued on one stream; only <see cref="CopyToHost"/> synchronises. The same code runs on ILGPU's CPU accelerator
/// (<see cref="CudaBackendOptions.Simulate"/>): only the GEMM provider (an ILGPU GEMM kernel instead of cuBLAS) and the
/// library loading differ. Kernels are grid-stride loops launched through <see cref="Grid"/> / <see cref="Rows"/>, so
/// they are correct for any grid, group and warp size. Kernel families live in the partial files beside this one
/// (CudaBackend.Family.cs) with their kernels in Kernels/Family*.cs.
/// </summary>
public sealed partial class CudaBackend : IBackend, IDeviceMemory, IDisposable
{
    readonly Context _context;
    readonly Device _device;
    readonly DeviceAllocator _allocator;
    bool _disposed;

    public Accelerator Accelerator { get; }
    public AcceleratorStream Stream { get; }
    public bool IsSimulated { get; }
    public CudaBackendOptions Options { get; }
    /// <summary>Threads per group used for launches.</summary>
    public int GroupSize { get; }
    /// <summary>Most groups one launch uses (kernels loop over the rest).</summary>
    public int MaxGroups { get; }
    public int WarpSize => Accelerator.WarpSize;

    CudaBackend(CudaBackendOptions options, Context context, Accelerator accelerator, bool simulated)
    {
        Options = options;
        _context = context;
        Accelerator = accelerator;
        Stream = accelerator.DefaultStream;
        IsSimulated = simulated;
        _device = new Device(DeviceKind.Cuda, options.Ordinal, this);
        _allocator = new DeviceAllocator(accelerator, options.CollectEveryBytes);
        if (simulated)
        {
            GroupSize = accelerator.WarpSize * Math.Max(1, options.SimulatedWarpsPerGroup);
            MaxGroups = Math.Max(1, options.SimulatedMaxGroups);
        }
        else
        {
            GroupSize = 256;
            MaxGroups = Math.Max(1, accelerator.NumMultiprocessors) * 8;
        }
        _gemm = CreateGemmProvider();
    }

    /// <summary>
    /// A backend on GPU <see cref="CudaBackendOptions.Ordinal"/>, or on the simulated accelerator. Throws
    /// <see cref="CudaUnavailableException"/> (one sentence) when no usable GPU is there.
    /// </summary>
    public static CudaBackend Create(CudaBackendOptions options)
    {
        if (options.Simulate)
        {
            var device = new CPUDevice(options.SimulatedWarpSize, Math.Max(1, options.SimulatedWarpsPerGroup), 1);
            var context = Context.Create(b => b.CPU(device).Optimize(OptimizationLevel.O1));
            var accelerator = context.CreateCPUAccelerator(0, CPUAcceleratorMode.Parallel);
            options.Log?.Invoke($"cuda backend: simulated on ILGPU's CPU accelerator (warp {accelerator.WarpSize}, no GPU involved)");
            return new CudaBackend(options, context, accelerator, simulated: true);
        }
        var (ctx, acc) = CudaRuntime.CreateAccelerator(options);
        return new CudaBackend(options, ctx, acc, simulated: false);
    }

    /// <summary>The device tensors of this backend live on.</summary>
    public Device AsDevice() => _device;
    Device IBackend.Device => _device;
    public string Name => IsSimulated ? $"cuda (simulated, warp {WarpSize})" : $"cuda:{Options.Ordinal} ({Accelerator.Name})";

    /// <summary>Allocated / reserved / peak bytes of the caching allocator.</summary>
    public DeviceMemoryStats MemoryStats => _allocator.Stats;
    public void ResetPeakMemory() => _allocator.ResetPeak();
    public long AllocatedBytes => _allocator.Stats.AllocatedBytes;
    public long ReservedBytes => _allocator.Stats.ReservedBytes;
    public long PeakAllocatedBytes => _allocator.Stats.PeakAllocatedBytes;
    internal DeviceAllocator Allocator => _allocator;

    // ---- launch geometry ----

    /// <summary>A 1-D launch for <paramref name="work"/> independent items (grid-stride loop in the kernel).</summary>
    public KernelConfig Grid(long work)
    {
        long groups = Math.Clamp((work + GroupSize - 1) / GroupSize, 1, MaxGroups);
        return new KernelConfig((int)groups, GroupSize);
    }

    /// <summary>One group per row (grid-stride over rows): for kernels where a group cooperates on a row.</summary>
    public KernelConfig Rows(long rows) => new((int)Math.Clamp(rows, 1, MaxGroups), GroupSize);

    /// <summary>One warp per row: groups of <see cref="GroupSize"/> threads hold GroupSize / WarpSize rows each.</summary>
    public KernelConfig WarpRows(long rows)
    {
        int perGroup = Math.Max(1, GroupSize / WarpSize);
        long groups = Math.Clamp((rows + perGroup - 1) / perGroup, 1, MaxGroups);
        return new KernelConfig((int)groups, GroupSize);
    }

    // ---- kernel views ----

    internal static CudaStorage StorageOf(Tensor t) => t.Storage as CudaStorage
        ?? throw new InvalidOperationException($"cuda backend: tensor {t.Shape} is on {t.Device}, not on a CUDA device");

    /// <summary>The kernel-side view of <paramref name="t"/> (any strides, any dtype).</summary>
    public static KTensor K(Tensor t)
    {
        if (t.Rank > Dims8.MaxRank) throw new ShapeException($"cuda backend: rank {t.Rank} > {Dims8.MaxRank} for {t.Shape}");
        var k = new KTensor
        {
            Data = StorageOf(t).View,
            Offset = t.Offset,
            DType = (int)t.DType,
            Rank = t.Rank,
            Numel = t.Numel,
        };
        for (int i = 0; i < t.Rank; i++)
        {
            k.Shape.Set(i, t.Shape.Dims[i]);
            k.Strides.Set(i, t.Strides[i]);
        }
        return k;
    }

    /// <summary>A contiguous tensor as a typed view of exactly its elements.</summary>
    public static ArrayView<T> View<T>(Tensor t) where T : unmanaged
    {
        if (!t.IsContiguous) throw new InvalidOperationException($"cuda backend: {t.Shape} with strides ({string.Join(",", t.Strides)}) must be contiguous here");
        int size = Marshal.SizeOf<T>();
        if (size != t.DType.Size()) throw new ShapeException($"cuda backend: a {t.DType.Name()} tensor viewed as {typeof(T).Name}");
        return StorageOf(t).View.Cast<T>().SubView(t.Offset, t.Numel);
    }

    static void Contig(Tensor t, string what)
    {
        if (!t.IsContiguous) throw new InvalidOperationException($"cuda backend: {what} must be contiguous, got strides ({string.Join(",", t.Strides)}) for {t.Shape}");
    }

    // ---- memory ----

    public Storage Allocate(long bytes, bool zeroed)
    {
        var s = new CudaStorage(_device, _allocator, bytes);
        if (zeroed && bytes > 0) s.View.SubView(0, bytes).MemSetToZero(Stream);
        return s;
    }

    public unsafe void CopyFromHost(ReadOnlySpan<byte> source, Tensor destination)
    {
        Contig(destination, "copy destination");
        long bytes = destination.Numel * destination.DType.Size();
        if (source.Length != bytes) throw new ShapeException($"copy from host: {source.Length} bytes for {bytes}");
        if (bytes == 0) return;
        var view = StorageOf(destination).View.SubView(destination.Offset * destination.DType.Size(), bytes);
        // ILGPU takes the host memory as a raw address (CopyFromCPU → Unsafe.AsPointer; its docs say "pinned buffer"):
        // pin it, or a compacting collection during the call moves a managed array and the copy reads its old place.
        // Simulated, that is a memcpy; on a GPU a cuMemcpy on pageable memory, during which any thread may collect.
        fixed (byte* host = source)
        {
            view.CopyFromCPU(Stream, ref *host, bytes);
            // The source span may be stack or pooled memory the caller reuses at once: finish the copy before returning.
            Stream.Synchronize();
        }
    }

    public unsafe void CopyToHost(Tensor source, Span<byte> destination)
    {
        Contig(source, "copy source");
        long bytes = source.Numel * source.DType.Size();
        if (destination.Length < bytes) throw new ShapeException($"copy to host: {destination.Length} bytes for {bytes}");
        if (bytes == 0) return;
        var view = StorageOf(source).View.SubView(source.Offset * source.DType.Size(), bytes);
        // Pinned for the whole copy (see CopyFromHost): unpinned, a collection during it sends the data to the array's
        // old place, which leaves zeros in the array and overwrites whatever the heap put there since.
        fixed (byte* host = destination)
        {
            view.CopyToCPU(Stream, ref *host, bytes);
            Stream.Synchronize();
        }
    }

    public void Synchronize() => Stream.Synchronize();

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        Stream.Synchronize();
        (_gemm as IDisposable)?.Dispose();
        _allocator.Dispose();
        Accelerator.Dispose();
        _context.Dispose();
    }
}
