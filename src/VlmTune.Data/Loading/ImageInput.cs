namespace VlmTune.Data.Loading;

/// <summary>
/// One image of a batch as the model takes it: either its features from the cache or its processed pixels, both
/// already in the compute dtype (bf16 when the model runs in bf16; never a float32 detour). Legend: n = tiles of the
/// image (rows·cols + 1), M = tile edge, S' = image tokens per tile, Dt = text width.
/// </summary>
/// <param name="Tiles">n.</param>
/// <param name="CacheKey">The image's feature-cache key; null when the cache is off.</param>
/// <param name="Features">(n, S', Dt) from the cache, or null.</param>
/// <param name="Pixels">(n, 3, M, M) normalised pixels when <paramref name="Features"/> is null.</param>
public sealed record ImageInput(int Tiles, byte[]? CacheKey, byte[]? Features, byte[]? Pixels);
