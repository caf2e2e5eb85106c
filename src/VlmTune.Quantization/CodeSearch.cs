namespace VlmTune.Quantization;

/// <summary>
/// Nearest 4-bit code by comparing with midpoints (bitsandbytes' reference path: <c>torch.bucketize</c> of the scaled
/// value on the f32 midpoints of the sorted code values, <c>right=False</c>). A value exactly on a midpoint takes the
/// lower value; for FP4 the two zero entries (+0 at index 0 and index 8, which also holds +0.0) collapse into one
/// value that maps to code 0.
/// </summary>
internal sealed class CodeSearch
{
    public static readonly CodeSearch Nf4 = new(QuantTables.Nf4);
    public static readonly CodeSearch Fp4 = new(QuantTables.Fp4);

    /// <summary>(V−1) f32 midpoints of the V sorted distinct values (V = 16 for NF4, 15 for FP4).</summary>
    public readonly float[] Midpoints;

    /// <summary>(V) sorted position → 4-bit code (first table index holding that value).</summary>
    public readonly byte[] SortedToCode;

    private CodeSearch(ReadOnlySpan<float> table)
    {
        var distinct = new SortedSet<float>();
        foreach (float v in table) distinct.Add(v == 0f ? 0f : v);
        float[] sorted = [.. distinct];
        Midpoints = new float[sorted.Length - 1];
        for (int j = 0; j < Midpoints.Length; j++) Midpoints[j] = (sorted[j] + sorted[j + 1]) / 2f;
        SortedToCode = new byte[sorted.Length];
        for (int j = 0; j < sorted.Length; j++) SortedToCode[j] = (byte)table.IndexOf(sorted[j]);
    }

    public static CodeSearch For(QuantType type) => type == QuantType.Nf4 ? Nf4 : Fp4;

    /// <summary>Scalar reference: count the midpoints strictly below <paramref name="scaled"/>.</summary>
    public byte NearestRef(float scaled)
    {
        int below = 0;
        foreach (float m in Midpoints)
            if (m < scaled) below++;
        return SortedToCode[below];
    }
}
