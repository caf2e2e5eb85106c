namespace VlmTune.Recipes;

/// <summary>One recipe key as the docs show it.</summary>
/// <param name="Path">Dotted key, e.g. <c>lora.r</c>.</param>
/// <param name="Type">Type and range, e.g. <c>integer, &gt;= 1</c>.</param>
/// <param name="Default">The default as YAML, or <c>(required)</c>.</param>
/// <param name="Meaning">One line.</param>
public sealed record RecipeKeyInfo(string Path, string Type, string Default, string Meaning);
