using System.Security.Cryptography;
using System.Text;
using VlmTune.Recipes.Schema;

namespace VlmTune.Recipes;

/// <summary>
/// A whole training run, as loaded and validated by <see cref="RecipeLoader"/>: every value typed, every default
/// filled in, every path absolute. The YAML keys, their types, defaults and meanings are listed by
/// <see cref="RecipeDocs.Describe"/>; records compare by value.
/// </summary>
public sealed record Recipe
{
    /// <summary>The file name the trainer gives <see cref="ToYaml"/> output inside the run folder.</summary>
    public const string ResolvedFileName = "recipe.resolved.yaml";

    public RecipeKind Kind { get; init; } = RecipeKind.Sft;
    public int Seed { get; init; } = 42;
    /// <summary>auto | cpu | cuda | cuda:N (see <see cref="DeviceSpec"/>); a verb's --device overrides it.</summary>
    public string Device { get; init; } = "auto";
    public ModelSection Model { get; init; } = new();
    public QuantizationSection Quantization { get; init; } = new();
    public LoraSection Lora { get; init; } = new();
    public DataSection Data { get; init; } = new();
    public TrainSection Train { get; init; } = new();
    /// <summary>Set exactly when <see cref="Kind"/> is <see cref="RecipeKind.Dpo"/>.</summary>
    public DpoSection? Dpo { get; init; }
    public EvalSection Eval { get; init; } = new();
    public CheckpointSection Checkpoint { get; init; } = new();
    public LoggingSection Logging { get; init; } = new();
    public OutputSection Output { get; init; } = new();

    /// <summary>
    /// The fully resolved recipe as YAML: every key in schema order, defaults filled, absolute paths, no dates.
    /// Loading it again gives an equal <see cref="Recipe"/>; the text is canonical (one recipe, one text).
    /// </summary>
    public string ToYaml() => RecipeWriter.Write(this);

    /// <summary>SHA-256 of <see cref="ToYaml"/> as 64 lower-case hex digits (e.g. a reference-log-prob cache key).</summary>
    public string Hash() => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ToYaml())));
}
