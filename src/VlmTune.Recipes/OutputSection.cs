namespace VlmTune.Recipes;

/// <summary>YAML <c>output:</c>.</summary>
public sealed record OutputSection
{
    /// <summary>Absolute path of the run folder (required; a relative path resolves against the current directory).</summary>
    public string Dir { get; init; } = "";
}
