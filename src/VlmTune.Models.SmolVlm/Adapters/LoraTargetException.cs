namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>Adapter targeting that cannot be satisfied (nothing matched, a module named twice, a bad regex …).</summary>
public sealed class LoraTargetException(string message, Exception? inner = null) : Exception(message, inner);
