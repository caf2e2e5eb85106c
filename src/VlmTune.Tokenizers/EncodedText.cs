namespace VlmTune.Tokenizers;

/// <summary>
/// Token ids with the span of the input each token came from, in UTF-16 code units of the input string
/// (Hugging Face reports the same spans in Unicode scalar values). A token that covers part of a multi-byte
/// character spans the whole character; tokens added by the post-processor (BOS, ...) have the empty span (0, 0).
/// </summary>
/// <param name="Ids">Token ids, as <see cref="Tokenizer.Encode"/> returns them.</param>
/// <param name="Offsets">One (Start, End) per id; End is exclusive.</param>
public sealed record EncodedText(int[] Ids, (int Start, int End)[] Offsets);
