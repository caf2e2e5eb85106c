using VlmTune.Data.Datasets;
using VlmTune.Processing;

namespace VlmTune.Data.Encoding;

/// <summary>
/// One DPO pair ready for collation: a prompt shared by both completions, and the images processed once.
/// Legend: P = prompt tokens, C⁺ / C⁻ = chosen / rejected completion tokens.
/// </summary>
/// <param name="PromptIds">(P) the rendered prompt with the generation prompt ("…Assistant:"), images expanded.</param>
/// <param name="ChosenIds">(C⁺) the chosen completion (" answer&lt;end_of_utterance&gt;").</param>
/// <param name="RejectedIds">(C⁻) the rejected completion.</param>
/// <param name="PromptImageTokenCount">Prompt tokens inside image expansions.</param>
public sealed record EncodedPair(
    RecordSource Source,
    int[] PromptIds,
    int[] ChosenIds,
    int[] RejectedIds,
    ProcessedImages? Images,
    int[] ImageRows,
    int[] ImageCols,
    int PromptImageTokenCount,
    bool ShrunkImages,
    bool Truncated)
{
    /// <summary>Length of the longer of the two sequences prompt + completion.</summary>
    public int Length => PromptIds.Length + Math.Max(ChosenIds.Length, RejectedIds.Length);
}
