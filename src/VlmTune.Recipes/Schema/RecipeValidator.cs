using System.Text.RegularExpressions;

namespace VlmTune.Recipes.Schema;

/// <summary>
/// Rules that involve more than one key (single-key ranges live in the schema table). Each rule either
/// completes the recipe (DPO defaults, targets vs targets_regex) or throws naming the key it blames.
/// </summary>
internal static class RecipeValidator
{
    public static Recipe Validate(Recipe recipe, RecipeSource source)
    {
        foreach (var key in RecipeSchema.Keys.Where(k => k.Required && !source.IsSet(k.Path)))
            throw source.Error(key.Path, $"required key is missing (set it in the recipe or with --set {key.Path}=...)");

        recipe = CheckKind(recipe, source);
        recipe = CheckTargets(recipe, source);

        var t = recipe.Train;
        if (t.WarmupSteps > 0 && t.WarmupRatio > 0)
            throw source.Error(source.IsSet("train.warmup_ratio") ? "train.warmup_ratio" : "train.warmup_steps",
                $"warmup_steps ({t.WarmupSteps}) and warmup_ratio ({YamlText.FormatDouble(t.WarmupRatio)}) are both set; use one");

        var d = recipe.Data;
        if (d.Eval != null && (d.EvalFraction > 0 || d.EvalCount > 0))
            throw source.Error("data.eval", "an eval file and a split of train (eval_fraction / eval_count) are both set; use one");
        if (d.EvalFraction > 0 && d.EvalCount > 0)
            throw source.Error("data.eval_count", "eval_fraction and eval_count are both set; use one");
        bool hasEval = d.Eval != null || d.EvalFraction > 0 || d.EvalCount > 0;
        if (recipe.Eval.EverySteps > 0 && !hasEval)
            throw source.Error("eval.every_steps", "evaluation is scheduled but there is no eval data (set data.eval, data.eval_fraction or data.eval_count)");

        if (recipe.Dpo is { LabelSmoothing: > 0, Loss: DpoLossType.Ipo or DpoLossType.Hinge } dpo)
            throw source.Error("dpo.label_smoothing",
                $"label_smoothing applies to the sigmoid (cDPO) and robust losses only, not {(dpo.Loss == DpoLossType.Ipo ? "ipo" : "hinge")}; set it to 0");
        return recipe;
    }

    static Recipe CheckKind(Recipe recipe, RecipeSource source)
    {
        if (recipe.Kind == RecipeKind.Dpo) return recipe with { Dpo = recipe.Dpo ?? new DpoSection() };
        if (!source.HasSection("dpo")) return recipe;
        string blamed = RecipeSchema.Keys.FirstOrDefault(k => k.Section == "dpo" && source.IsSet(k.Path))?.Path ?? "dpo";
        throw source.Error(blamed, "the dpo section belongs to kind: dpo, but this recipe is kind: sft (remove the section or set kind: dpo)");
    }

    static Recipe CheckTargets(Recipe recipe, RecipeSource source)
    {
        var lora = recipe.Lora;
        if (lora.TargetsRegex != null)
        {
            if (source.IsSet("lora.targets") && lora.Targets != null)
                throw source.Error("lora.targets_regex", "lora.targets and lora.targets_regex are both set; use one (or set targets: null)");
            try
            {
                _ = new Regex(lora.TargetsRegex, RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw source.Error("lora.targets_regex", $"not a valid regular expression: {e.Message}");
            }
            return recipe with { Lora = lora with { Targets = null } };
        }
        if (lora.Targets == null)
            throw source.Error("lora.targets", "no LoRA targets: set lora.targets (a list of names or all-linear) or lora.targets_regex");
        return recipe;
    }
}
