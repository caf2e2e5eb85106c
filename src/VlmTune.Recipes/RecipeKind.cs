namespace VlmTune.Recipes;

/// <summary>Which trainer a recipe drives (YAML <c>kind</c>).</summary>
public enum RecipeKind
{
    /// <summary><c>sft</c>: supervised fine-tuning on chat records.</summary>
    Sft,
    /// <summary><c>dpo</c>: direct preference optimisation on chosen/rejected pairs.</summary>
    Dpo,
}
