using VlmTune.Tensors.Autograd;

namespace VlmTune.Tensors;

/// <summary>
/// An n-dimensional view over a device <see cref="Storage"/>: shape, element strides, element offset and dtype.
/// Views (transpose, permute, narrow, reshape of contiguous data, broadcast expansion) share storage and cost
/// nothing; <see cref="Contiguous"/> copies only when needed. Values stay on the device: nothing here reads
/// them back except the explicit host transfers (<see cref="ToArray{T}"/>, <see cref="Item"/>).
/// Autograd: a tensor that <see cref="RequiresGrad"/> and was produced by an op while grad mode is on carries
/// the <see cref="Node"/> that made it; leaves (parameters) accumulate into <see cref="Grad"/>.
/// </summary>
public sealed partial class Tensor
{
    public Storage Storage { get; }
    public Shape Shape { get; }
    public long[] Strides { get; }
    public long Offset { get; }
    public DType DType { get; }
    public Device Device => Storage.Device;
    public IBackend Backend => Storage.Device.Backend;

    /// <summary>True for trainable leaves and for every result computed from one while grad mode is on.</summary>
    public bool RequiresGrad { get; private set; }
    /// <summary>Accumulated gradient of a leaf (f32, same shape); null until a backward pass reaches it.</summary>
    public Tensor? Grad { get; set; }
    /// <summary>The op record that produced this tensor (null for leaves and for results computed without grad).</summary>
    public Node? Node { get; internal set; }
    /// <summary>Optional name used in error messages and by optimisers (e.g. the checkpoint key).</summary>
    public string? Name { get; set; }

    public Tensor(Storage storage, Shape shape, long[] strides, long offset, DType dtype)
    {
        if (strides.Length != shape.Rank)
            throw new ShapeException($"strides rank {strides.Length} does not match shape {shape}");
        Storage = storage;
        Shape = shape;
        Strides = strides;
        Offset = offset;
        DType = dtype;
    }

    public int Rank => Shape.Rank;
    public long Numel => Shape.Numel;
    public int Dim(int axis) => Shape[axis];

    /// <summary>Row-major contiguous (broadcast views with stride 0 are not).</summary>
    public bool IsContiguous
    {
        get
        {
            long expect = 1;
            for (int i = Rank - 1; i >= 0; i--)
            {
                if (Shape.Dims[i] != 1 && Strides[i] != expect) return false;
                expect *= Shape.Dims[i];
            }
            return true;
        }
    }

    /// <summary>Marks a leaf as trainable (its gradient is accumulated in <see cref="Grad"/>).</summary>
    public Tensor RequireGrad(bool requires = true)
    {
        if (Node != null) throw new InvalidOperationException("only leaf tensors can change RequiresGrad");
        if (requires && !DType.IsFloat()) throw new ShapeException($"a {DType.Name()} tensor cannot require a gradient");
        RequiresGrad = requires;
        return this;
    }

    internal void SetProduced(Node node)
    {
        Node = node;
        RequiresGrad = true;
    }

    /// <summary>A view sharing storage but cut from the graph.</summary>
    public Tensor Detach() => new(Storage, Shape, Strides, Offset, DType) { Name = Name };

    public override string ToString() => $"Tensor{Shape} {DType.Name()} on {Device}{(RequiresGrad ? " requires_grad" : "")}";

    // ---- host transfers (these synchronise) ----

    public T[] ToArray<T>() where T : unmanaged
    {
        var c = Ops.Contiguous(this);
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (size != DType.Size()) throw new ShapeException($"cannot read a {DType.Name()} tensor as {typeof(T).Name}");
        var result = new T[checked((int)c.Numel)];
        Backend.CopyToHost(c, System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    /// <summary>The raw little-endian bytes of the elements, row-major, in the tensor's dtype.</summary>
    public byte[] ToBytes()
    {
        var c = Ops.Contiguous(this);
        var result = new byte[checked((int)(c.Numel * DType.Size()))];
        Backend.CopyToHost(c, result);
        return result;
    }

    /// <summary>f32 values of any float tensor (bf16/f16 widened), row-major.</summary>
    public float[] ToFloatArray() => (DType == DType.F32 ? this : Ops.ToDType(this, DType.F32)).ToArray<float>();

    /// <summary>The single value of a one-element float tensor.</summary>
    public float Item()
    {
        if (Numel != 1) throw new ShapeException($"Item() needs one element, got shape {Shape}");
        return ToFloatArray()[0];
    }
}

public sealed partial class Tensor
{
    /// <summary>Runs the backward pass from this tensor (a scalar, or with an explicit output gradient).</summary>
    public void Backward(Tensor? gradOutput = null) => Autograd.Backward.Run(this, gradOutput);
}
