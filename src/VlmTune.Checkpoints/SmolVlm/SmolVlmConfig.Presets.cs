namespace VlmTune.Checkpoints.SmolVlm;

/// <summary>The published SmolVLM sizes (values from spec smolvlm.md §1 tables) and a tiny test model.</summary>
public sealed partial record SmolVlmConfig
{
    /// <summary>HuggingFaceTB/SmolVLM-256M-Instruct: SigLIP-base/16 @512 + SmolLM2-135M, r = 4, 64 tokens per tile.</summary>
    public static SmolVlmConfig SmolVlm256M() => new()
    {
        ModelType = Idefics3ModelType,
        Architectures = ["Idefics3ForConditionalGeneration"],
        ImageTokenId = 49190,
        ScaleFactor = 4,
        TorchDtype = "bfloat16",
        Vision = SiglipBase512(),
        Text = SmolLm2(hidden: 576, layers: 30, heads: 9, kvHeads: 3, intermediate: 1536, vocab: 49280, ropeTheta: 100000.0, maxPositions: 8192),
    };

    /// <summary>HuggingFaceTB/SmolVLM-500M-Instruct: SigLIP-base/16 @512 + SmolLM2-360M, r = 4.</summary>
    public static SmolVlmConfig SmolVlm500M() => new()
    {
        ModelType = Idefics3ModelType,
        Architectures = ["Idefics3ForConditionalGeneration"],
        ImageTokenId = 49190,
        ScaleFactor = 4,
        TorchDtype = "bfloat16",
        Vision = SiglipBase512(),
        Text = SmolLm2(hidden: 960, layers: 32, heads: 15, kvHeads: 5, intermediate: 2560, vocab: 49280, ropeTheta: 100000.0, maxPositions: 8192),
    };

    /// <summary>HuggingFaceTB/SmolVLM-Instruct (2.2B): SigLIP-so400m/14 @384 + SmolLM2-1.7B, r = 3, 81 tokens per tile.</summary>
    public static SmolVlmConfig SmolVlm2B() => new()
    {
        ModelType = Idefics3ModelType,
        Architectures = ["Idefics3ForConditionalGeneration"],
        ImageTokenId = 49153,
        ScaleFactor = 3,
        TorchDtype = "bfloat16",
        Vision = new SmolVlmVisionConfig
        {
            HiddenSize = 1152, IntermediateSize = 4304, NumHiddenLayers = 27, NumAttentionHeads = 16,
            ImageSize = 384, PatchSize = 14, LayerNormEps = 1e-6,
        },
        Text = SmolLm2(hidden: 2048, layers: 24, heads: 32, kvHeads: 32, intermediate: 8192, vocab: 49155, ropeTheta: 273768.0, maxPositions: 16384),
    };

    /// <summary>
    /// A random-init test model that runs in seconds on a CPU: vision 2 layers, hidden 32, 2 heads, patch 8 on
    /// 32-px tiles (4×4 patches), r = 2 (4 image tokens per tile); text 2 layers, hidden 64, 4 heads / 2 kv heads
    /// (head_dim 16), intermediate 128. <paramref name="vocabSize"/> is the tiny tokenizer's size;
    /// <paramref name="imageTokenId"/> defaults to its last id.
    /// </summary>
    public static SmolVlmConfig Tiny(int vocabSize, int? imageTokenId = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabSize, 2);
        int image = imageTokenId ?? vocabSize - 1;
        if (image < 0 || image >= vocabSize)
            throw new ArgumentOutOfRangeException(nameof(imageTokenId), image, $"image token id must be inside the vocabulary [0, {vocabSize})");
        var config = new SmolVlmConfig
        {
            ModelType = Idefics3ModelType,
            Architectures = ["Idefics3ForConditionalGeneration"],
            ImageTokenId = image,
            ScaleFactor = 2,
            TorchDtype = "float32",
            Vision = new SmolVlmVisionConfig
            {
                HiddenSize = 32, IntermediateSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 2,
                ImageSize = 32, PatchSize = 8, LayerNormEps = 1e-6,
            },
            Text = SmolLm2(hidden: 64, layers: 2, heads: 4, kvHeads: 2, intermediate: 128, vocab: vocabSize, ropeTheta: 10000.0, maxPositions: 2048),
        };
        config.Validate("Tiny preset");
        return config;
    }

    private static SmolVlmVisionConfig SiglipBase512() => new()
    {
        HiddenSize = 768, IntermediateSize = 3072, NumHiddenLayers = 12, NumAttentionHeads = 12,
        ImageSize = 512, PatchSize = 16, LayerNormEps = 1e-6,
    };

    private static SmolVlmTextConfig SmolLm2(int hidden, int layers, int heads, int kvHeads, int intermediate, int vocab, double ropeTheta, int maxPositions) => new()
    {
        VocabSize = vocab,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeads = kvHeads,
        HeadDim = hidden / heads,
        MaxPositionEmbeddings = maxPositions,
        RmsNormEps = 1e-5,
        RopeTheta = ropeTheta,
        TieWordEmbeddings = false,
        BosTokenId = 1,
        EosTokenId = 2,
        PadTokenId = 2,
    };
}
