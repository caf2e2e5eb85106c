using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

/// <summary>
/// The tensor operations. Each method checks shapes, dtypes and devices (errors name every shape involved),
/// allocates its output on the inputs' device, calls one <see cref="IBackend"/> method and, when grad mode is on
/// and an input requires a gradient, records a <see cref="Node"/> whose derivative rule lives in
/// <see cref="Autograd.Backward"/>.
/// <para>
/// Dtypes (mixed precision): every float op takes f32 or bf16 tensors (f16 is a storage format: convert with
/// <see cref="ToDType"/>). Backends compute in f32 (GEMMs accumulate in f32; norms, softmax, attention and losses
/// keep their statistics in f32) and round results to nearest even. The output dtype is:
/// elementwise unary, views, reductions, gather, dropout, norms, softmax, attention, RoPE — the (first) input's;
/// binary ops and concat — f32 if any input is f32, else bf16 (PyTorch's promotion); matmul / linear — a's (x's)
/// unless an output dtype is asked for; embedding — f32 unless asked; label log-probs, losses and cached statistics
/// (mean, rstd, lse) — f32. Gradients: an activation's gradient has the activation's dtype; a leaf's accumulated
/// <see cref="Tensor.Grad"/> is f32.
/// </para>
/// </summary>
public static partial class Ops
{
    /// <summary>A new uninitialised contiguous tensor.</summary>
    public static Tensor Empty(Shape shape, DType dtype, Device device)
    {
        var storage = device.Backend.Allocate(shape.Numel * dtype.Size(), zeroed: false);
        Autograd.BlockAllocations.Record(storage);
        return new Tensor(storage, shape, shape.ContiguousStrides(), 0, dtype);
    }

    public static Tensor Zeros(Shape shape, DType dtype, Device device)
    {
        var storage = device.Backend.Allocate(shape.Numel * dtype.Size(), zeroed: true);
        Autograd.BlockAllocations.Record(storage);
        return new Tensor(storage, shape, shape.ContiguousStrides(), 0, dtype);
    }

    public static Tensor Full(Shape shape, float value, Device device)
    {
        var t = Empty(shape, DType.F32, device);
        device.Backend.Fill(t, value);
        return t;
    }

    public static Tensor ZerosLike(Tensor t) => Zeros(t.Shape, t.DType, t.Device);

    /// <summary>Copies host data to a new tensor; the element type must match the dtype's size.</summary>
    public static Tensor FromArray<T>(ReadOnlySpan<T> data, Shape shape, Device device, DType? dtype = null) where T : unmanaged
    {
        var dt = dtype ?? DTypeOf<T>();
        if (data.Length != shape.Numel)
            throw new ShapeException($"{data.Length} values do not fill shape {shape} ({shape.Numel} elements)");
        if (System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != dt.Size())
            throw new ShapeException($"{typeof(T).Name} data cannot fill a {dt.Name()} tensor");
        var t = Empty(shape, dt, device);
        device.Backend.CopyFromHost(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data), t);
        return t;
    }

    public static Tensor FromArray<T>(T[] data, Shape shape, Device device, DType? dtype = null) where T : unmanaged
        => FromArray((ReadOnlySpan<T>)data, shape, device, dtype);

    /// <summary>Copies raw little-endian bytes of <paramref name="dtype"/> elements (e.g. a safetensors span) to a new tensor.</summary>
    public static Tensor FromBytes(ReadOnlySpan<byte> bytes, Shape shape, DType dtype, Device device)
    {
        if (bytes.Length != shape.Numel * dtype.Size())
            throw new ShapeException($"{bytes.Length} bytes do not fill a {dtype.Name()} tensor of shape {shape}");
        var t = Empty(shape, dtype, device);
        device.Backend.CopyFromHost(bytes, t);
        return t;
    }

    public static Tensor Scalar(float value, Device device) => FromArray([value], Shape.Scalar, device);

    static DType DTypeOf<T>() => typeof(T) == typeof(float) ? DType.F32
        : typeof(T) == typeof(int) ? DType.I32
        : typeof(T) == typeof(long) ? DType.I64
        : typeof(T) == typeof(byte) ? DType.U8
        : typeof(T) == typeof(Half) ? DType.F16
        : typeof(T) == typeof(ushort) ? DType.BF16
        : throw new ShapeException($"no dtype for {typeof(T).Name}");

    /// <summary>Seeded normal values (counter-based Philox: the same seed and offset give the same values on every backend).</summary>
    public static Tensor RandomNormal(Shape shape, ulong seed, Device device, float mean = 0f, float std = 1f, ulong offset = 0)
    {
        var t = Empty(shape, DType.F32, device);
        device.Backend.RandomNormal(t, seed, offset, mean, std);
        return t;
    }

    public static Tensor RandomUniform(Shape shape, ulong seed, Device device, float low = 0f, float high = 1f, ulong offset = 0)
    {
        var t = Empty(shape, DType.F32, device);
        device.Backend.RandomUniform(t, seed, offset, low, high);
        return t;
    }

    // ---- checks and graph recording ----

    internal static void SameDevice(Tensor a, Tensor b, string op)
    {
        if (!ReferenceEquals(a.Device, b.Device))
            throw new ShapeException($"{op}: tensors on different devices ({a.Device} {a.Shape} and {b.Device} {b.Shape})");
    }

    /// <summary>A compute tensor: f32 or bf16.</summary>
    internal static void RequireFloat(Tensor t, string op, string what)
    {
        if (t.DType is not (DType.F32 or DType.BF16))
            throw new ShapeException($"{op}: {what} must be f32 or bf16, got {t.DType.Name()} {t.Shape}");
    }

    internal static void RequireComputeDType(DType dtype, string op)
    {
        if (dtype is not (DType.F32 or DType.BF16))
            throw new ShapeException($"{op}: the output dtype must be f32 or bf16, got {dtype.Name()}");
    }

    /// <summary>The dtype of a binary result: f32 when either operand is f32 (PyTorch's promotion), else bf16.</summary>
    public static DType Promote(DType a, DType b) => a == DType.F32 || b == DType.F32 ? DType.F32 : a;

    internal static void RequireInt(Tensor t, string op, string what)
    {
        if (t.DType is not (DType.I32 or DType.I64))
            throw new ShapeException($"{op}: {what} must be i32 or i64, got {t.DType.Name()} {t.Shape}");
    }

    /// <summary>Attaches a graph node to <paramref name="output"/> if recording applies.</summary>
    internal static Tensor Record(Op op, Tensor output, Tensor[] inputs, Tensor[]? saved = null, object? attrs = null)
    {
        if (!GradMode.IsEnabled)
        {
            GradMode.Note(inputs);
            return output;
        }
        foreach (var i in inputs)
        {
            if (i.RequiresGrad)
            {
                output.SetProduced(new Node(op, inputs, saved ?? [], attrs));
                return output;
            }
        }
        return output;
    }

    internal static bool Recording(params Tensor[] inputs)
    {
        if (!GradMode.IsEnabled)
        {
            GradMode.Note(inputs);
            return false;
        }
        foreach (var i in inputs) if (i.RequiresGrad) return true;
        return false;
    }
}
