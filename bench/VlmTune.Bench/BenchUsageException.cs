namespace VlmTune.Bench;

/// <summary>A command-line mistake: printed with the usage text, exit code 2.</summary>
public sealed class BenchUsageException(string message) : Exception(message);
