using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Models.SmolVlm.Quantization;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Merge;

/// <summary>
/// What the adapter deltas are added to. <see cref="Original"/>: the base checkpoint's own 16/32-bit weights
/// (W + ΔW) — right for an adapter trained with plain LoRA. <see cref="Dequantized"/>: dequant(quant(W)), the weights
/// a QLoRA adapter actually saw in training; merging a QLoRA adapter into the original W adds a term it never saw
/// (unsloth-zoo#810, peft#2321), so for QLoRA adapters this is the faithful choice.
/// </summary>
public enum MergeBase { Original, Dequantized }

public sealed record MergeOptions
{
    public MergeBase Onto { get; init; } = MergeBase.Original;
    /// <summary>How the base was quantised in training (used when <see cref="Onto"/> is Dequantized).</summary>
    public QuantizeSettings TrainingQuantization { get; init; } = new();
    /// <summary>Output dtype of the merged weights (null: the base checkpoint's storage dtype).</summary>
    public DType? DType { get; init; }
    /// <summary>Quantise the merged checkpoint to 4 bits (bitsandbytes layout) as a last step.</summary>
    public QuantizeSettings? QuantizeOutput { get; init; }
    public bool Force { get; init; }
    /// <summary>
    /// The adapter's record of the base it was trained against (null: a PEFT-made adapter). The drift is measured
    /// against that model (base rebuilt as trained + adapter), whatever the merge base.
    /// </summary>
    public BasePreparation? Preparation { get; init; }
    /// <summary>Samples for the drift report (merged vs unmerged logits).</summary>
    public int DriftSamples { get; init; } = 3;
}

/// <summary>
/// max and mean |Δlogit| between the merged checkpoint and <paramref name="Reference"/> (the model as trained: base
/// rebuilt as recorded + adapter; without a record, the merge base + adapter), over every position of the samples.
/// </summary>
public readonly record struct MergeDrift(double Max, double Mean, int Samples, long Logits, string Reference);
