namespace VlmTune.Recipes;

/// <summary>YAML <c>model:</c> — the base checkpoint.</summary>
public sealed record ModelSection
{
    /// <summary>Absolute path of the HF checkpoint folder (required; a relative path in the file resolves against the recipe's folder).</summary>
    public string Path { get; init; } = "";
}
