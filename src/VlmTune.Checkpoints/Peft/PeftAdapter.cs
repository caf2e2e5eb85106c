namespace VlmTune.Checkpoints.Peft;

/// <summary>An adapter read from disk: its config and its tensors by model-relative key (see <see cref="PeftTensor"/>).</summary>
public sealed record PeftAdapter(string Directory, PeftAdapterConfig Config, IReadOnlyDictionary<string, PeftTensor> Tensors)
{
    public string WeightsPath => Path.Combine(Directory, PeftAdapterFile.WeightsName);
}
