namespace VlmTune.Models.SmolVlm;

/// <summary>
/// Vision position ids and key mask from a per-tile pixel mask (spec smolvlm.md §2.1–2.2 with the errata).
/// A patch is valid when any of its pixels is; a full tile gets the identity ids 0…S−1 and no mask. A partial tile
/// (NaViT style) gets bucketed ids: fractional coordinates arange(0, 1−1e-6, 1/nb) in f32 (torch arange semantics),
/// bucketize(right=True) against boundaries arange(1/K, 1, 1/K) (f32), id = bucket_h·K + bucket_w on valid patches,
/// 0 elsewhere. This is the original formula (transformers ≤ 4.54.1), not the later regressed one.
/// </summary>
public static class VisionPositions
{
    /// <summary>
    /// pixelMask: per tile H×W booleans (row-major), or null for full tiles. Returns null when every tile is full;
    /// otherwise (positionIds (n·S), keyMask (n·S) with 1 = valid patch).
    /// </summary>
    public static (long[] Ids, int[] Mask)? Compute(bool[][]? pixelMask, int tiles, int imageSize, int patch)
    {
        if (pixelMask == null) return null;
        int k = imageSize / patch, s = k * k;
        var ids = new long[tiles * s];
        var mask = new int[tiles * s];
        bool anyPartial = false;
        var boundaries = Arange(1f / k, 1f, 1f / k);
        for (int t = 0; t < tiles; t++)
        {
            var pm = pixelMask[t];
            var valid = new bool[s];
            for (int i = 0; i < k; i++)
                for (int j = 0; j < k; j++)
                {
                    bool any = false;
                    for (int y = i * patch; y < (i + 1) * patch && !any; y++)
                        for (int x = j * patch; x < (j + 1) * patch; x++)
                            if (pm[y * imageSize + x]) { any = true; break; }
                    valid[i * k + j] = any;
                }
            int nbH = 0, nbW = 0;
            for (int i = 0; i < k; i++) if (valid[i * k]) nbH++;
            for (int j = 0; j < k; j++) if (valid[j]) nbW++;
            var fh = Arange(0f, 1f - 1e-6f, 1f / Math.Max(nbH, 1));
            var fw = Arange(0f, 1f - 1e-6f, 1f / Math.Max(nbW, 1));
            var bh = fh.Select(f => Bucketize(f, boundaries)).ToArray();
            var bw = fw.Select(f => Bucketize(f, boundaries)).ToArray();
            // torch writes the flattened (bh ⊗ bw) ids into the valid positions in row-major order.
            int next = 0;
            for (int p = 0; p < s; p++)
            {
                mask[t * s + p] = valid[p] ? 1 : 0;
                if (!valid[p]) { anyPartial = true; continue; }
                if (next < bh.Length * bw.Length) ids[t * s + p] = bh[next / bw.Length] * k + bw[next % bw.Length];
                next++;
            }
        }
        return anyPartial ? (ids, mask) : null;
    }

    /// <summary>torch.arange(start, end, step) in float32: length ceil((end − start)/step), values start + i·step.</summary>
    static float[] Arange(float start, float end, float step)
    {
        int n = (int)Math.Ceiling((end - start) / (double)step);
        var r = new float[Math.Max(n, 0)];
        for (int i = 0; i < r.Length; i++) r[i] = start + i * step;
        return r;
    }

    /// <summary>bucketize(right=True): the number of boundaries ≤ x.</summary>
    static long Bucketize(float x, float[] boundaries)
    {
        long c = 0;
        foreach (var b in boundaries) if (b <= x) c++;
        return c;
    }
}
