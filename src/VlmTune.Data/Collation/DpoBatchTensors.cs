using VlmTune.Tensors;

namespace VlmTune.Data.Collation;

/// <summary>
/// A <see cref="DpoBatch"/> on a device. Legend: B = pairs, T = padded length, N = max tiles, M = tile edge.
/// Sequence rows 0..B−1 are chosen, B..2B−1 rejected; pixel row b serves sequence rows b and B + b.
/// </summary>
/// <param name="InputIds">(2B, T) i64.</param>
/// <param name="AttentionMask">(2B, T) i64.</param>
/// <param name="Labels">(2B, T) i64, −100 outside the completion.</param>
/// <param name="CompletionMask">(2B, T) i64, 1 on completion tokens.</param>
/// <param name="PixelValues">(B, N, 3, M, M) f32, shared by both halves; null when the batch has no image.</param>
/// <param name="TileMask">(B, N) u8; null when the batch has no image.</param>
public sealed record DpoBatchTensors(Tensor InputIds, Tensor AttentionMask, Tensor Labels, Tensor CompletionMask,
    Tensor? PixelValues, Tensor? TileMask);
