namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>
/// The Llama (SmolLM2) text decoder. Initial values are LlamaConfig's class defaults, which apply to keys a present
/// text_config leaves out; note rms_norm_eps is 1e-6 here and 1e-5 only when text_config is missing entirely
/// (spec smolvlm.md §1.4 and errata §9). <see cref="NumKeyValueHeads"/> and <see cref="HeadDim"/> hold resolved
/// values (LlamaConfig: kv heads default to the attention heads, head_dim to hidden / heads).
/// </summary>
public sealed record SmolVlmTextConfig
{
    public string ModelType { get; init; } = "llama";
    public int VocabSize { get; init; } = 32000;
    public int HiddenSize { get; init; } = 4096;
    public int IntermediateSize { get; init; } = 11008;
    public int NumHiddenLayers { get; init; } = 32;
    public int NumAttentionHeads { get; init; } = 32;
    public int NumKeyValueHeads { get; init; } = 32;
    public int HeadDim { get; init; } = 128;
    public string HiddenAct { get; init; } = "silu";
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    /// <summary>transformers ties lm_head to embed_tokens when the text config says so (get_text_config().tie_word_embeddings).</summary>
    public bool TieWordEmbeddings { get; init; }
    public int? BosTokenId { get; init; } = 1;
    public int? EosTokenId { get; init; } = 2;
    public int? PadTokenId { get; init; }
    public double InitializerRange { get; init; } = 0.02;

    /// <summary>Query heads per key/value head (GQA group size).</summary>
    public int KvGroups => NumAttentionHeads / NumKeyValueHeads;

    /// <summary>Width of the q projection output: heads × head_dim.</summary>
    public int QueryDim => NumAttentionHeads * HeadDim;

    /// <summary>Width of the k and v projection outputs: kv heads × head_dim.</summary>
    public int KeyValueDim => NumKeyValueHeads * HeadDim;
}
