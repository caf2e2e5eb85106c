namespace VlmTune.Models.SmolVlm.Init;

/// <summary>The output folder exists and is not empty (and --force was not given), or is a file.</summary>
public sealed class InitOutputException(string message) : Exception(message);
