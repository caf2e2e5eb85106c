namespace VlmTune.Recipes.Schema;

/// <summary>
/// "did you mean" for unknown keys: names other tools use (learning_rate, lora_alpha, ...), the same name in
/// another section (train.targets → lora.targets), then the closest key by edit distance.
/// </summary>
internal static class KeySuggester
{
    static readonly Dictionary<string, string> Aliases = new()
    {
        ["learning_rate"] = "train.lr",
        ["gradient_accumulation_steps"] = "train.grad_accum",
        ["per_device_train_batch_size"] = "train.batch_size",
        ["micro_batch_size"] = "train.batch_size",
        ["num_train_epochs"] = "train.epochs",
        ["num_epochs"] = "train.epochs",
        ["lr_scheduler_type"] = "train.schedule",
        ["lora_alpha"] = "lora.alpha",
        ["lora_dropout"] = "lora.dropout",
        ["lora_r"] = "lora.r",
        ["rank"] = "lora.r",
        ["lora_rank"] = "lora.r",
        ["target_modules"] = "lora.targets",
        ["lora_target_modules"] = "lora.targets",
        ["max_seq_length"] = "data.max_length",
        ["output_dir"] = "output.dir",
        ["model_name_or_path"] = "model.path",
        ["save_steps"] = "checkpoint.every_steps",
        ["save_total_limit"] = "checkpoint.keep_last",
        ["logging_steps"] = "logging.every_steps",
        ["eval_steps"] = "eval.every_steps",
        ["load_in_4bit"] = "quantization.enabled",
        ["bnb_4bit_quant_type"] = "quantization.type",
        ["bnb_4bit_use_double_quant"] = "quantization.double_quant",
    };

    /// <summary>The key the user probably meant, or null.</summary>
    public static string? Suggest(string unknown)
    {
        string leaf = unknown[(unknown.LastIndexOf('.') + 1)..];
        if (Aliases.TryGetValue(leaf, out var alias)) return alias;
        var sameName = RecipeSchema.Keys.FirstOrDefault(k => k.Section != "" && k.Name == leaf);
        if (sameName != null && sameName.Path != unknown) return sameName.Path;

        var candidates = RecipeSchema.Keys.Select(k => k.Path).Concat(RecipeSchema.Sections);
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            int d = Distance(unknown, c);
            if (d < bestDistance) (best, bestDistance) = (c, d);
        }
        return bestDistance <= Math.Max(2, unknown.Length / 4) ? best : null;
    }

    /// <summary>The message for an unknown key: a suggestion, or the keys that do exist there.</summary>
    public static string UnknownKeyReason(string unknown)
    {
        string? guess = Suggest(unknown);
        if (guess != null) return $"unknown key (did you mean {guess}?)";
        string section = unknown.Contains('.') ? unknown[..unknown.IndexOf('.')] : "";
        if (RecipeSchema.IsSection(section))
            return $"unknown key (keys in {section}: {string.Join(", ", RecipeSchema.Keys.Where(k => k.Section == section).Select(k => k.Name))})";
        var top = RecipeSchema.Keys.Where(k => k.Section == "").Select(k => k.Path).Concat(RecipeSchema.Sections);
        return $"unknown key (top-level keys: {string.Join(", ", top)})";
    }

    /// <summary>Optimal-string-alignment distance (Levenshtein plus adjacent transpositions).</summary>
    internal static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
        for (int j = 1; j <= b.Length; j++)
        {
            int cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
        }
        return d[a.Length, b.Length];
    }
}
