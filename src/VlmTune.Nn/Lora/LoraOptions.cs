namespace VlmTune.Nn.Lora;

/// <summary>
/// The per-layer LoRA hyper-parameters (PEFT <c>LoraConfig</c> fields that change numerics).
/// scaling = α / r, or α / √r with rsLoRA (PEFT layer.py <c>update_layer</c>).
/// </summary>
public sealed record LoraOptions
{
    /// <summary>Rank r (PEFT default 8).</summary>
    public int Rank { get; init; } = 8;
    /// <summary>lora_alpha (PEFT default 8).</summary>
    public double Alpha { get; init; } = 8;
    /// <summary>Dropout probability on the LoRA branch input only (0 = none).</summary>
    public float Dropout { get; init; }
    /// <summary>rsLoRA: scaling α/√r instead of α/r.</summary>
    public bool UseRsLora { get; init; }
    /// <summary>DoRA: a trainable magnitude vector m (out) rescales each output row.</summary>
    public bool UseDora { get; init; }
    public LoraInit Init { get; init; } = LoraInit.KaimingUniform;

    /// <summary>The factor applied to B·A·x.</summary>
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Throws <see cref="ArgumentException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (Rank <= 0) throw new ArgumentException($"LoRA rank must be positive, got {Rank}", nameof(Rank));
        if (!double.IsFinite(Alpha) || Alpha <= 0) throw new ArgumentException($"lora_alpha must be a positive number, got {Alpha}", nameof(Alpha));
        if (!(Dropout >= 0f && Dropout < 1f)) throw new ArgumentException($"lora_dropout must be in [0, 1), got {Dropout}", nameof(Dropout));
    }
}
