namespace VlmTune.Models.SmolVlm.Init;

/// <summary>What <see cref="CheckpointInitializer.Write"/> produced.</summary>
public sealed record InitResult(string Directory, int Tensors, long Parameters, long WeightBytes, IReadOnlyList<string> Files);
