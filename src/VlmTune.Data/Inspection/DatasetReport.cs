using VlmTune.Data.Datasets;

namespace VlmTune.Data.Inspection;

/// <summary>
/// What <see cref="DatasetInspector"/> found. Token counts are per sample (for DPO: prompt + the longer completion);
/// shares are over all samples' tokens. <see cref="SupervisedImageTokens"/> must be 0 by construction; it is counted
/// anyway as an invariant check.
/// </summary>
public sealed record DatasetReport
{
    public required string File { get; init; }
    public required DatasetKind Kind { get; init; }
    public required int MaxLength { get; init; }
    public required int Records { get; init; }
    public required int Valid { get; init; }
    /// <summary>Bad records (every one under Skip; under Error the first ones, all of them counted in <see cref="ErrorCount"/>).</summary>
    public required IReadOnlyList<DatasetRecordException> Errors { get; init; }
    public required int ErrorCount { get; init; }
    public required int Dropped { get; init; }
    public required int Shrunk { get; init; }
    public required int Truncated { get; init; }
    public required TokenStats TextTokens { get; init; }
    public required TokenStats ImageTokens { get; init; }
    public required TokenStats TotalTokens { get; init; }
    public required long TokenSum { get; init; }
    public required long SupervisedSum { get; init; }
    public required long ImageTokenSum { get; init; }
    public required long SupervisedImageTokens { get; init; }

    public double SupervisedShare => TokenSum == 0 ? 0 : (double)SupervisedSum / TokenSum;
    public double ImageShare => TokenSum == 0 ? 0 : (double)ImageTokenSum / TokenSum;
}
