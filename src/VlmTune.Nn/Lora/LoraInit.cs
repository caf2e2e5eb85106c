namespace VlmTune.Nn.Lora;

/// <summary>
/// How the A matrix of a fresh adapter is drawn (PEFT <c>init_lora_weights</c>); B always starts at zero, so a fresh
/// adapter is a no-op.
/// </summary>
public enum LoraInit : byte
{
    /// <summary>PEFT's default (<c>init_lora_weights=true</c>): kaiming_uniform(a=√5) → A ~ U(−1/√in, +1/√in).</summary>
    KaimingUniform,
    /// <summary><c>init_lora_weights="gaussian"</c>: A ~ N(0, std = 1/r).</summary>
    Gaussian,
}
