namespace VlmTune.Data.Loading;

/// <summary>
/// One micro-batch from the streamed loader: the padded text (<see cref="Collation.SftBatch"/> or
/// <see cref="Collation.DpoBatch"/>, no pixel buffer) and the images of its samples (pairs) in order.
/// </summary>
/// <param name="Images">Every image of the batch: sample 0's images in order, then sample 1's, …</param>
/// <param name="TilesPerSample">(B) tiles of each sample (pair): the sum of its images' tiles.</param>
/// <param name="Samples">Plan positions of the samples, in batch order.</param>
public sealed record StreamedBatch<TText>(TText Text, ImageInput[] Images, int[] TilesPerSample, int[] Samples);
