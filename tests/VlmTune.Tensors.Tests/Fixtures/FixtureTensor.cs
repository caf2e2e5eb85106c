namespace VlmTune.Tensors.Tests.Fixtures;

/// <summary>
/// One tensor from a fixture file: its full name ("case/x"), safetensors dtype ("F32" or "I64"), shape and data.
/// Exactly one of <see cref="F32"/> and <see cref="I64"/> is set, matching <see cref="DType"/>; data is row-major.
/// A scalar has an empty <see cref="Shape"/> and one element.
/// </summary>
public sealed record FixtureTensor(string Name, string DType, int[] Shape, float[]? F32, long[]? I64)
{
    /// <summary>Number of elements: the product of <see cref="Shape"/> (1 for a scalar).</summary>
    public int ElementCount => ElementCountOf(Shape);

    /// <summary>The float data; throws <see cref="OpFixtureException"/> for an integer tensor.</summary>
    public float[] Floats => F32 ?? throw new OpFixtureException($"tensor '{Name}' is {DType}, not F32");

    /// <summary>The integer data; throws <see cref="OpFixtureException"/> for a float tensor.</summary>
    public long[] Longs => I64 ?? throw new OpFixtureException($"tensor '{Name}' is {DType}, not I64");

    public bool IsFloat => DType == "F32";

    /// <summary>"[2,5,7]" for messages.</summary>
    public string ShapeText => "[" + string.Join(",", Shape) + "]";

    public static int ElementCountOf(int[] shape)
    {
        long n = 1;
        foreach (var d in shape)
        {
            n *= d;
        }
        return checked((int)n);
    }
}
