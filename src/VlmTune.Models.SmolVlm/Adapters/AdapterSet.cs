using VlmTune.Checkpoints.Peft;
using VlmTune.Nn.Lora;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>
/// The adapters installed on one <see cref="SmolVlmModel"/>: LoRA/DoRA on the resolved linears plus modules_to_save
/// copies. <see cref="TrainableParameters"/> lists every trainable tensor in a stable order (model order; A, B, m per
/// module, then modules_to_save weight, bias) keyed as in the PEFT file (without "base_model.model.").
/// </summary>
public sealed class AdapterSet
{
    public SmolVlmModel Model { get; }
    public LoraSettings Settings { get; }
    public LoraTargetResolution Resolution { get; }
    public IReadOnlyList<LoraAdapter> Adapters { get; }
    public IReadOnlyList<SavedModule> SavedModules { get; }
    public IReadOnlyList<(string Key, Tensor Tensor)> TrainableParameters { get; }

    AdapterSet(SmolVlmModel model, LoraSettings settings, LoraTargetResolution resolution,
        IReadOnlyList<LoraAdapter> adapters, IReadOnlyList<SavedModule> saved)
    {
        Model = model;
        Settings = settings;
        Resolution = resolution;
        Adapters = adapters;
        SavedModules = saved;
        var list = new List<(string, Tensor)>();
        foreach (var a in adapters) list.AddRange(a.Parameters().Select(p => (a.Path + "." + p.Suffix, p.Tensor)));
        foreach (var s in saved) list.AddRange(s.Parameters());
        TrainableParameters = list;
    }

    /// <summary>
    /// Resolves <paramref name="settings"/> on <paramref name="model"/> and installs fresh adapters (random A from
    /// (seed, module path), B = 0) and modules_to_save copies. The model's own weights stay frozen.
    /// </summary>
    public static AdapterSet Apply(SmolVlmModel model, LoraSettings settings, ulong seed, DropoutContext? dropout = null)
    {
        var resolution = LoraTargets.Resolve(model, settings);
        var byPath = model.NamedLinears().ToDictionary(l => l.Path, l => l.Layer, StringComparer.Ordinal);
        foreach (var path in resolution.ModulePaths.Concat(resolution.ModulesToSave.Select(m => m.Path)))
            if (byPath[path].Adapter != null)
                throw new InvalidOperationException($"{path} already has an adapter; remove it before applying another");
        var adapters = new List<LoraAdapter>();
        foreach (var m in resolution.Modules)
        {
            var adapter = new LoraAdapter(m.Path, byPath[m.Path], settings.Lora, seed, dropout);
            byPath[m.Path].Adapter = adapter;
            adapters.Add(adapter);
        }
        var saved = resolution.ModulesToSave.Select(m => new SavedModule(m.Path, byPath[m.Path])).ToList();
        return new AdapterSet(model, settings, resolution, adapters, saved);
    }

    /// <summary>Adapters on or off together; off ⇒ the model computes exactly its base outputs (DPO's reference).</summary>
    public bool Enabled
    {
        get => Adapters.All(a => a.Enabled) && SavedModules.All(s => s.Enabled);
        set
        {
            foreach (var a in Adapters) a.Enabled = value;
            foreach (var s in SavedModules) s.Enabled = value;
        }
    }

    /// <summary>Uninstalls every adapter and restores the original modules_to_save tensors.</summary>
    public void Remove()
    {
        var byPath = Model.NamedLinears().ToDictionary(l => l.Path, l => l.Layer, StringComparer.Ordinal);
        foreach (var a in Adapters) byPath[a.Path].Adapter = null;
        foreach (var s in SavedModules) s.Remove();
    }

    /// <summary>The tensors as the PEFT file stores them (f32 host copies).</summary>
    public IReadOnlyList<PeftTensor> ToPeftTensors() =>
        TrainableParameters.Select(p => new PeftTensor(p.Key, p.Tensor.Shape.ToArray().Select(d => (long)d).ToArray(), p.Tensor.ToFloatArray())).ToList();

    /// <summary>adapter_config.json for these adapters (target_modules chosen so PEFT selects exactly the same modules).</summary>
    public PeftAdapterConfig ToPeftConfig(string? baseModelNameOrPath, string? revision = null)
    {
        var o = Settings.Lora;
        var targets = LoraTargets.ForPeftFile(LinearInfo.FromModel(Model), Resolution, Settings.LayersToTransform);
        return new PeftAdapterConfig
        {
            BaseModelNameOrPath = baseModelNameOrPath,
            Revision = revision,
            R = o.Rank,
            LoraAlpha = o.Alpha,
            LoraDropout = o.Dropout,
            TargetModules = targets.Kind == TargetKind.Names ? targets.Names : null,
            TargetModulesPattern = targets.Kind == TargetKind.Names ? null : targets.Pattern,
            UseRslora = o.UseRsLora,
            UseDora = o.UseDora,
            InitLoraWeights = o.Init == LoraInit.Gaussian ? "gaussian" : "true",
            ModulesToSave = Settings.ModulesToSave.Count == 0 ? null : Settings.ModulesToSave,
            LayersToTransform = targets.Kind == TargetKind.Names ? Settings.LayersToTransform : null,
        };
    }

    /// <summary>
    /// Writes the PEFT adapter directory (plus <see cref="BasePreparation.FileName"/> when the model records how its
    /// base was prepared); with <paramref name="modelDirectory"/>, also copies its processor and
    /// tokenizer files next to it.
    /// </summary>
    public void Save(string directory, string? baseModelNameOrPath, string? modelDirectory = null)
    {
        PeftAdapterFile.Save(directory, ToPeftConfig(baseModelNameOrPath ?? modelDirectory), ToPeftTensors());
        Model.Preparation?.Save(directory);
        if (modelDirectory != null) PeftAdapterFile.CopyProcessorFiles(modelDirectory, directory);
    }

    /// <summary>
    /// Loads a PEFT adapter directory onto <paramref name="model"/>: the config's target_modules are resolved with
    /// PEFT's rules over all towers (the file decides what is adapted), then every tensor is checked against the
    /// modules it selects — unknown, missing and mis-shaped tensors are errors naming the key.
    /// </summary>
    public static AdapterSet Load(SmolVlmModel model, string directory, DropoutContext? dropout = null)
    {
        var file = PeftAdapterFile.Load(directory);
        var c = file.Config;
        var settings = new LoraSettings
        {
            Targets = TargetModules.FromPeft(c),
            Towers = LoraSettings.AllTowers,
            LayersToTransform = c.LayersToTransform,
            ModulesToSave = c.ModulesToSave ?? [],
            Lora = new LoraOptions
            {
                Rank = c.R, Alpha = c.LoraAlpha, Dropout = (float)c.LoraDropout, UseRsLora = c.UseRslora, UseDora = c.UseDora,
                Init = c.InitLoraWeights == "gaussian" ? LoraInit.Gaussian : LoraInit.KaimingUniform,
            },
        };
        AdapterSet set;
        try { set = Apply(model, settings, seed: 0, dropout); }
        catch (LoraTargetException e) { throw new PeftFormatException(Path.Combine(file.Directory, PeftAdapterConfig.FileName), "target_modules", e.Message, e); }
        try
        {
            set.LoadTensors(file);
        }
        catch
        {
            set.Remove();
            throw;
        }
        return set;
    }

    void LoadTensors(PeftAdapter file)
    {
        var expected = TrainableParameters.ToDictionary(p => p.Key, p => p.Tensor, StringComparer.Ordinal);
        foreach (var (key, t) in file.Tensors)
        {
            if (!expected.TryGetValue(key, out var target))
                throw new PeftFormatException(file.WeightsPath, PeftKeys.ToFileKey(key),
                    $"no such adapter tensor for this model and adapter_config.json (target_modules {Settings.Targets}, " +
                    $"use_dora {Settings.Lora.UseDora}, r {Settings.Lora.Rank})");
            var shape = target.Shape.ToArray().Select(d => (long)d).ToArray();
            if (!shape.SequenceEqual(t.Shape))
                throw new PeftFormatException(file.WeightsPath, PeftKeys.ToFileKey(key),
                    $"shape [{string.Join(", ", t.Shape)}], expected [{string.Join(", ", shape)}]");
            target.Backend.CopyFromHost(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.Data.AsSpan()), target);
        }
        var missing = expected.Keys.Where(k => !file.Tensors.ContainsKey(k)).ToList();
        if (missing.Count > 0)
            throw new PeftFormatException(file.WeightsPath, PeftKeys.ToFileKey(missing[0]),
                $"missing ({missing.Count} tensor{(missing.Count == 1 ? "" : "s")} the config selects are absent)");
    }
}
