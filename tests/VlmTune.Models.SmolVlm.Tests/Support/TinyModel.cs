using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Models.SmolVlm.Tests.Support;

public static class TinyModel
{
    /// <summary>A tiny SmolVLM config: 32-px tiles, patch 8, scale 2 → 4 image tokens per tile; vocab 300, image id 299.</summary>
    public static SmolVlmConfig Config => SmolVlmConfig.Tiny(300, 299);

    public static SmolVlmModel Create(ulong seed = 1) => new(new SeededWeights(seed), Config);
}
