using VlmTune.Nn.Lora;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// What to adapt and how: PEFT's target selection (<see cref="Targets"/>, <see cref="LayersToTransform"/>,
/// <see cref="ModulesToSave"/>) narrowed by an explicit tower choice, plus the LoRA hyper-parameters.
/// </summary>
public sealed record LoraSettings
{
    public static IReadOnlySet<Tower> TextOnly { get; } = new HashSet<Tower> { Tower.Text };
    public static IReadOnlySet<Tower> AllTowers { get; } = new HashSet<Tower> { Tower.Vision, Tower.Connector, Tower.Text, Tower.LmHead };

    public required TargetModules Targets { get; init; }
    /// <summary>
    /// Towers whose modules may be adapted (default: text only). PEFT name lists also hit the vision tower's
    /// q/k/v_proj; this filter keeps them out and <see cref="LoraTargets.Resolve(SmolVlmModel, LoraSettings)"/> says so.
    /// </summary>
    public IReadOnlySet<Tower> Towers { get; init; } = TextOnly;
    /// <summary>PEFT layers_to_transform: only layers with these indices (applies to name lists, as in PEFT).</summary>
    public IReadOnlyList<int>? LayersToTransform { get; init; }
    /// <summary>
    /// PEFT modules_to_save: these linears become fully trainable f32 copies (saved whole) and are never LoRA-adapted.
    /// A name matches a module whose path equals it or ends with "." + name; not filtered by <see cref="Towers"/>.
    /// </summary>
    public IReadOnlyList<string> ModulesToSave { get; init; } = [];
    public LoraOptions Lora { get; init; } = new();

    /// <summary>Lower-case tower names for messages and flags ("text,vision").</summary>
    public static string TowerName(Tower t) => t switch
    {
        Tower.Vision => "vision",
        Tower.Connector => "connector",
        Tower.Text => "text",
        Tower.LmHead => "lm_head",
        _ => t.ToString(),
    };

    /// <summary>Comma-separated tower names in flag order: text, vision, connector, lm_head.</summary>
    public static string TowerList(IEnumerable<Tower> towers) => string.Join(",", towers.Distinct().OrderBy(FlagOrder).Select(TowerName));

    static int FlagOrder(Tower t) => t switch { Tower.Text => 0, Tower.Vision => 1, Tower.Connector => 2, _ => 3 };
}
