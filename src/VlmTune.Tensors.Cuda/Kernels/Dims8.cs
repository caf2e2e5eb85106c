namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>Up to eight extents or strides, passed to kernels by value (kernel parameters cannot be arrays).</summary>
public struct Dims8
{
    public long A0, A1, A2, A3, A4, A5, A6, A7;

    public readonly long this[int i] => i switch
    {
        0 => A0, 1 => A1, 2 => A2, 3 => A3, 4 => A4, 5 => A5, 6 => A6, _ => A7,
    };

    public void Set(int i, long v)
    {
        switch (i)
        {
            case 0: A0 = v; break;
            case 1: A1 = v; break;
            case 2: A2 = v; break;
            case 3: A3 = v; break;
            case 4: A4 = v; break;
            case 5: A5 = v; break;
            case 6: A6 = v; break;
            default: A7 = v; break;
        }
    }

    public const int MaxRank = 8;
}
