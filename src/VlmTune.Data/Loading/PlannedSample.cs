namespace VlmTune.Data.Loading;

/// <summary>
/// What the planning pass keeps of one usable record (24 bytes): where it is and its exact token counts. The tokens
/// themselves are not kept; a loader worker re-encodes the record when its batch is about to run (and checks the length).
/// </summary>
/// <param name="Record">0-based record index in the source.</param>
/// <param name="Length">Tokens of the sample (SFT), or prompt + the longer completion (DPO), image tokens included.</param>
/// <param name="ImageTokens">Tokens inside image expansions.</param>
/// <param name="Supervised">Tokens with a label (SFT), or of the longer completion (DPO).</param>
/// <param name="SupervisedImage">Supervised tokens that are image-related (must be 0; `inspect dataset` audits it).</param>
/// <param name="Shrunk">Its images were planned global-only to fit (overflow shrink_images).</param>
/// <param name="Truncated">Its text was cut at the max length.</param>
public readonly record struct PlannedSample(int Record, int Length, int ImageTokens, int Supervised, int SupervisedImage, bool Shrunk, bool Truncated)
{
    public int TextTokens => Length - ImageTokens;
}
