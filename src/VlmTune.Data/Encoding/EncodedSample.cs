using VlmTune.Data.Datasets;
using VlmTune.Processing;

namespace VlmTune.Data.Encoding;

/// <summary>
/// One SFT sample ready for collation. Legend: T = tokens of this sample (≤ max length).
/// </summary>
/// <param name="InputIds">(T) token ids of the rendered, image-expanded conversation.</param>
/// <param name="Labels">(T) = InputIds where supervised, −100 elsewhere (never on an image-related token).</param>
/// <param name="Images">The processed images (tiles); null when encoded without pixels.</param>
/// <param name="ImageRows">(images) tile rows per image, 0 when not split.</param>
/// <param name="ImageCols">(images) tile columns per image.</param>
/// <param name="ImageTokenCount">Tokens inside image expansions (&lt;image&gt;, F, &lt;global-img&gt;, &lt;row_r_col_c&gt;, row newlines).</param>
/// <param name="ShrunkImages">The images were re-processed global-only to fit (OverflowPolicy.ShrinkImages).</param>
/// <param name="Truncated">The text after the last image was cut at the max length (TruncateText).</param>
public sealed record EncodedSample(
    RecordSource Source,
    int[] InputIds,
    int[] Labels,
    ProcessedImages? Images,
    int[] ImageRows,
    int[] ImageCols,
    int ImageTokenCount,
    bool ShrunkImages,
    bool Truncated)
{
    public int Length => InputIds.Length;
    public int TextTokenCount => InputIds.Length - ImageTokenCount;
    public int SupervisedCount => Labels.Count(l => l != LabelMask.IgnoreIndex);
}
