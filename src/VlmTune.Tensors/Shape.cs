namespace VlmTune.Tensors;

/// <summary>
/// The dimensions of a tensor. Immutable; compares by value; prints as "(2,5,7)".
/// Destructuring helpers (<see cref="Dims2"/> ...) throw a <see cref="ShapeException"/> naming the rank found.
/// </summary>
public readonly struct Shape : IEquatable<Shape>
{
    readonly int[]? _dims;

    public Shape(params int[] dims)
    {
        foreach (var d in dims)
            if (d < 0) throw new ShapeException($"negative dimension in {Format(dims)}");
        _dims = (int[])dims.Clone();
    }

    public static Shape Scalar => new(Array.Empty<int>());

    public int Rank => _dims?.Length ?? 0;
    public int this[int axis] => Dims[Normalize(axis)];
    public ReadOnlySpan<int> Dims => _dims ?? [];
    public int[] ToArray() => Dims.ToArray();

    /// <summary>Number of elements (1 for a scalar).</summary>
    public long Numel
    {
        get
        {
            long n = 1;
            foreach (var d in Dims) n *= d;
            return n;
        }
    }

    /// <summary>Maps a possibly negative axis to 0..Rank-1.</summary>
    public int Normalize(int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        if (a < 0 || a >= Rank) throw new ShapeException($"axis {axis} is out of range for shape {this}");
        return a;
    }

    /// <summary>Contiguous row-major element strides.</summary>
    public long[] ContiguousStrides()
    {
        var s = new long[Rank];
        long acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= Dims[i]; }
        return s;
    }

    public Shape With(int axis, int size)
    {
        var d = ToArray();
        d[Normalize(axis)] = size;
        return new Shape(d);
    }

    public (int, int) Dims2() { Expect(2); return (Dims[0], Dims[1]); }
    public (int, int, int) Dims3() { Expect(3); return (Dims[0], Dims[1], Dims[2]); }
    public (int, int, int, int) Dims4() { Expect(4); return (Dims[0], Dims[1], Dims[2], Dims[3]); }

    void Expect(int rank)
    {
        if (Rank != rank) throw new ShapeException($"expected rank {rank}, got {this}");
    }

    /// <summary>Numpy-style broadcast of two shapes; throws naming both when they are incompatible.</summary>
    public static Shape Broadcast(Shape a, Shape b)
    {
        int rank = Math.Max(a.Rank, b.Rank);
        var d = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Rank ? 1 : a.Dims[i - (rank - a.Rank)];
            int db = i < rank - b.Rank ? 1 : b.Dims[i - (rank - b.Rank)];
            if (da != db && da != 1 && db != 1)
                throw new ShapeException($"shapes {a} and {b} cannot be broadcast together");
            d[i] = da == 1 ? db : da;
        }
        return new Shape(d);
    }

    public bool Equals(Shape other) => Dims.SequenceEqual(other.Dims);
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);
    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in Dims) h.Add(d);
        return h.ToHashCode();
    }

    public static bool operator ==(Shape a, Shape b) => a.Equals(b);
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);
    public static implicit operator Shape(int[] dims) => new(dims);

    public override string ToString() => Format(Dims);
    static string Format(ReadOnlySpan<int> dims) => "(" + string.Join(",", dims.ToArray()) + ")";
}

/// <summary>A shape or dtype mismatch; the message names the shapes involved.</summary>
public sealed class ShapeException(string message) : Exception(message);
