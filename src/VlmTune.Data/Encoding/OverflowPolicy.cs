namespace VlmTune.Data.Encoding;

/// <summary>
/// What to do with a sample longer than the maximum length. Nothing ever cuts through image tokens: the image-token
/// count must equal the image-feature rows (spec §5.2; TRL#4289, TRL#5285).
/// </summary>
public enum OverflowPolicy
{
    /// <summary>Fail with a <see cref="Datasets.DatasetRecordException"/> naming file:line and the token counts.</summary>
    Error,
    /// <summary>Leave the sample out (the encoder returns null; callers count it).</summary>
    Drop,
    /// <summary>
    /// Re-process the sample's images without splitting (global image only, one tile each) and check again;
    /// still too long → as <see cref="Error"/>.
    /// </summary>
    ShrinkImages,
}
