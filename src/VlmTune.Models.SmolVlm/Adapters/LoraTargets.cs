using System.Text;
using System.Text.RegularExpressions;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// Which linears get adapters, with PEFT's matching rules (peft tuners_utils.py check_target_module_exists,
/// _maybe_include_all_linear_layers) followed by VlmTune's explicit tower filter:
///   list  → path == name or path ends with "." + name; with layers_to_transform, the layer index is the last
///           ".&lt;name&gt;.&lt;digits&gt;." in the path (PEFT's regex <c>.*\.[^.]*\.(\d+)\.</c>) and must be listed;
///   regex → the pattern matches the whole path (re.fullmatch); layers_to_transform does not apply (as in PEFT);
///   all-linear → every linear except lm_head (the output embedding), vision tower and connector included;
///   modules_to_save → never adapted (PEFT excludes them), trained in full instead.
/// Then only modules in <see cref="LoraSettings.Towers"/> are kept; a warning names what PEFT would also have adapted.
/// </summary>
public static class LoraTargets
{
    static readonly Regex LayerIndex = new(@"^.*\.[^.]*\.(\d+)\.", RegexOptions.CultureInvariant);

    public static LoraTargetResolution Resolve(SmolVlmModel model, LoraSettings settings) =>
        Resolve(LinearInfo.FromModel(model), settings);

    public static LoraTargetResolution Resolve(IReadOnlyList<LinearInfo> linears, LoraSettings settings)
    {
        settings.Lora.Validate();
        if (settings.Towers.Count == 0) throw new LoraTargetException("no towers selected for LoRA (choose from text, vision, connector)");
        var saved = new List<LinearInfo>();
        foreach (string m in settings.ModulesToSave)
        {
            var hits = linears.Where(l => NameMatches(l.Path, m)).ToList();
            if (hits.Count == 0)
                throw new LoraTargetException($"modules_to_save '{m}' matches no linear layer (e.g. \"model.connector.modality_projection.proj\" or \"lm_head\")");
            saved.AddRange(hits.Where(h => !saved.Contains(h)));
        }
        saved = linears.Where(saved.Contains).ToList();

        var regex = settings.Targets.Kind == TargetKind.Regex ? CompileFullMatch(settings.Targets.Pattern) : null;
        var peft = linears.Where(l => !saved.Contains(l) && PeftMatches(l.Path, settings.Targets, settings.LayersToTransform, regex)).ToList();
        var kept = peft.Where(l => settings.Towers.Contains(l.Tower)).ToList();
        if (kept.Count == 0)
            throw new LoraTargetException(
                $"target_modules {settings.Targets} matches no linear layer in towers {LoraSettings.TowerList(settings.Towers)}" +
                (peft.Count > 0 ? $" (it matches {peft.Count} in other towers: {Describe(peft)})" : ""));

        var o = settings.Lora;
        long trainable = kept.Sum(l => (long)o.Rank * l.InFeatures + (long)l.OutFeatures * o.Rank + (o.UseDora ? l.OutFeatures : 0))
                       + saved.Sum(l => (long)l.OutFeatures * l.InFeatures + (l.HasBias ? l.OutFeatures : 0));
        return new LoraTargetResolution
        {
            Modules = kept,
            PeftMatches = peft,
            ModulesToSave = saved,
            CountsByTower = kept.GroupBy(l => l.Tower).ToDictionary(g => g.Key, g => g.Count()),
            TrainableParameters = trainable,
            Warnings = Warnings(peft, settings),
        };
    }

    /// <summary>PEFT's check_target_module_exists for one module path (modules_to_save exclusion aside).</summary>
    public static bool PeftMatches(string path, TargetModules targets, IReadOnlyList<int>? layersToTransform = null, Regex? compiled = null)
    {
        switch (targets.Kind)
        {
            case TargetKind.AllLinear:
                return path != "lm_head";
            case TargetKind.Regex:
                return (compiled ?? CompileFullMatch(targets.Pattern)).IsMatch(path);
        }
        if (targets.Names.Contains(path)) return true;                               // exact: no layer filter in PEFT
        if (!targets.Names.Any(n => path.EndsWith("." + n, StringComparison.Ordinal))) return false;
        if (layersToTransform == null || layersToTransform.Count == 0) return true;
        var m = LayerIndex.Match(path);
        return m.Success && int.TryParse(m.Groups[1].Value, out int index) && layersToTransform.Contains(index);
    }

    static bool NameMatches(string path, string name) =>
        path == name || path.EndsWith("." + name, StringComparison.Ordinal);

    public static Regex CompileFullMatch(string pattern)
    {
        try { return new Regex("^(?:" + pattern + @")\z", RegexOptions.CultureInvariant); }
        catch (ArgumentException e) { throw new LoraTargetException($"target_modules regex '{pattern}' is invalid: {e.Message}", e); }
    }

    static IReadOnlyList<string> Warnings(IReadOnlyList<LinearInfo> peft, LoraSettings s)
    {
        var excluded = peft.Where(l => !s.Towers.Contains(l.Tower)).ToList();
        if (excluded.Count == 0) return [];
        string flag = LoraSettings.TowerList(s.Towers.Concat(excluded.Select(l => l.Tower)).Distinct());
        // The recipe key and the `inspect lora` flag that exist (no verb has a --lora-towers option).
        string how = $"To adapt them set lora.towers: [{flag.Replace(",", ", ")}] in the recipe (or --set lora.towers=[{flag}]; inspect lora --towers {flag})";
        string chosen = LoraSettings.TowerList(s.Towers);
        var warnings = new List<string>();
        if (s.Targets.Kind == TargetKind.Names)
        {
            foreach (string name in s.Targets.Names)
            {
                var hits = excluded.Where(l => NameMatches(l.Path, name)).ToList();
                if (hits.Count == 0) continue;
                warnings.Add($"{name} also matches {Describe(hits)}; they are NOT adapted (towers: {chosen}). {how}");
            }
        }
        else
        {
            warnings.Add($"target_modules {s.Targets} also matches {Describe(excluded)}; they are NOT adapted (towers: {chosen}). {how}");
        }
        return warnings;
    }

    static string Describe(IEnumerable<LinearInfo> modules) => string.Join(" and ",
        modules.GroupBy(l => l.Tower).OrderBy(g => g.Key)
            .Select(g => $"{g.Count()} {LoraSettings.TowerName(g.Key)}-tower module{(g.Count() == 1 ? "" : "s")}"));

    /// <summary>
    /// target_modules to write into adapter_config.json so that PEFT, loading the file into the same model, adapts
    /// exactly <paramref name="resolution"/>'s modules: the sorted distinct last path components when PEFT's
    /// suffix matching of those names (with <paramref name="layersToTransform"/>) selects exactly that set, otherwise
    /// a full-match regex (layer indices listed, or \d+ when every layer of that kind is included). The result is
    /// checked against PEFT's rules before it is returned.
    /// </summary>
    public static TargetModules ForPeftFile(IReadOnlyList<LinearInfo> linears, LoraTargetResolution resolution, IReadOnlyList<int>? layersToTransform)
    {
        var wanted = resolution.ModulePaths.ToHashSet(StringComparer.Ordinal);
        var candidates = linears.Where(l => !resolution.ModulesToSave.Contains(l)).ToList();
        bool Exact(TargetModules t, IReadOnlyList<int>? layers) =>
            candidates.Where(l => PeftMatches(l.Path, t, layers)).Select(l => l.Path).ToHashSet(StringComparer.Ordinal).SetEquals(wanted);

        var names = TargetModules.FromNames(wanted.Select(p => p[(p.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).ToArray());
        if (Exact(names, layersToTransform)) return names;
        var regex = TargetModules.FromRegex(CompactRegex(wanted, linears));
        if (Exact(regex, null)) return regex;
        var literal = TargetModules.FromRegex(string.Join("|", wanted.Order(StringComparer.Ordinal).Select(Escape)));
        return Exact(literal, null) ? literal : throw new LoraTargetException("internal error: cannot express the adapted modules as target_modules");
    }

    /// <summary>Groups paths as prefix + layer index + suffix: "model\.text_model\.layers\.\d+\.(?:mlp\.up_proj|…)".</summary>
    static string CompactRegex(IReadOnlySet<string> wanted, IReadOnlyList<LinearInfo> linears)
    {
        static (string Prefix, string Index, string Suffix)? Split(string path)
        {
            var parts = path.Split('.');
            for (int i = parts.Length - 2; i >= 1; i--)
                if (parts[i].Length > 0 && parts[i].All(char.IsAsciiDigit))
                    return (string.Join('.', parts[..i]) + ".", parts[i], "." + string.Join('.', parts[(i + 1)..]));
            return null;
        }
        var existing = linears.Select(l => Split(l.Path)).Where(s => s != null).Select(s => s!.Value)
            .GroupBy(s => (s.Prefix, s.Suffix)).ToDictionary(g => g.Key, g => g.Select(s => s.Index).ToHashSet());
        var alternatives = new List<string>();
        var withIndex = new List<(string Prefix, string Index, string Suffix)>();
        foreach (string p in wanted.Order(StringComparer.Ordinal))
        {
            if (Split(p) is { } s) withIndex.Add(s);
            else alternatives.Add(Escape(p));
        }
        foreach (var bySuffix in withIndex.GroupBy(s => (s.Prefix, s.Suffix)))
        {
            var idx = bySuffix.Select(s => s.Index).ToHashSet();
            string indexPattern = idx.SetEquals(existing[bySuffix.Key]) ? @"\d+"
                : "(?:" + string.Join("|", idx.OrderBy(int.Parse)) + ")";
            alternatives.Add(Escape(bySuffix.Key.Prefix) + indexPattern + "\u0000" + bySuffix.Key.Suffix);
        }
        // Merge alternatives that share prefix + index pattern: "P(?:i)\.(?:s1|s2)".
        var merged = alternatives.GroupBy(a => a.Contains('\u0000') ? a[..a.IndexOf('\u0000')] : a)
            .Select(g => g.First().Contains('\u0000')
                ? g.Key + @"\." + "(?:" + string.Join("|", g.Select(a => Escape(a[(a.IndexOf('\u0000') + 2)..])).Order(StringComparer.Ordinal)) + ")"
                : g.Key);
        return string.Join("|", merged.Order(StringComparer.Ordinal));
    }

    static string Escape(string literal)
    {
        var sb = new StringBuilder(literal.Length + 8);
        foreach (char c in literal)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_')) sb.Append('\\');
            sb.Append(c);
        }
        return sb.ToString();
    }
}
