using VlmTune.Tensors;

namespace VlmTune.Data.Collation;

/// <summary>
/// An <see cref="SftBatch"/> on a device. Legend: B = samples, T = padded length, N = max tiles, M = tile edge.
/// </summary>
/// <param name="InputIds">(B, T) i64.</param>
/// <param name="AttentionMask">(B, T) i64, 1 on real tokens.</param>
/// <param name="Labels">(B, T) i64, −100 where not supervised.</param>
/// <param name="PixelValues">(B, N, 3, M, M) f32; null when the batch has no image.</param>
/// <param name="TileMask">(B, N) u8, 1 on real tiles; null when the batch has no image.</param>
public sealed record SftBatchTensors(Tensor InputIds, Tensor AttentionMask, Tensor Labels, Tensor? PixelValues, Tensor? TileMask);
