namespace VlmTune.Nn.Lora;

/// <summary>
/// The shared state that makes LoRA dropout reproducible: a run seed, a step counter the trainer advances once per
/// forward pass (micro-batch), and the training flag (evaluation ⇒ no dropout).
///
/// An adapter's mask depends only on (seed, module path, step) and the element index, never on call order, so a
/// gradient-checkpoint recompute within the same step reproduces the mask exactly. Consequence: a module called twice
/// in one step with same-shaped inputs gets the same mask (no SmolVLM linear is).
/// </summary>
public sealed class DropoutContext(ulong seed)
{
    /// <summary>Counter stride between steps: inputs up to 2³² elements per call never overlap the next step's stream.</summary>
    public const ulong StepStride = 1UL << 32;

    public ulong Seed { get; } = seed;
    /// <summary>Forward-pass counter; the trainer calls <see cref="Advance"/> before each micro-batch.</summary>
    public long Step { get; set; }
    /// <summary>False for evaluation (and for DPO reference passes): dropout is the identity.</summary>
    public bool Training { get; set; } = true;

    public void Advance() => Step++;

    /// <summary>The Philox (seed, offset) pair for a module, given the stable hash of its path.</summary>
    public (ulong Seed, ulong Offset) StreamFor(ulong moduleHash) =>
        (LoraSeeds.Mix(Seed, moduleHash), checked((ulong)Step) * StepStride);
}
