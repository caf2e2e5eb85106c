namespace VlmTune.Tokenizers;

/// <summary>
/// One entry of tokenizer.json's <c>added_tokens</c>: a string matched as a whole before the model runs
/// (Hugging Face <c>AddedToken</c>).
/// </summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">The exact text that is matched.</param>
/// <param name="Special">Special tokens are dropped by <c>Decode(..., skipSpecialTokens: true)</c>.</param>
/// <param name="SingleWord">Match only when not preceded or followed by a word character (Rust regex <c>\w</c>).</param>
/// <param name="LStrip">The match swallows the whitespace on its left.</param>
/// <param name="RStrip">The match swallows the whitespace on its right.</param>
/// <param name="Normalized">Matched against the normalized text (after the normalizer) instead of the raw text.</param>
public sealed record AddedToken(
    int Id, string Content, bool Special, bool SingleWord, bool LStrip, bool RStrip, bool Normalized);
