using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Checkpoints.Peft;

/// <summary>
/// PEFT's tensor-key grammar in adapter_model.safetensors (peft utils/save_and_load.py get_peft_model_state_dict):
///   base_model.model.&lt;module path&gt;.lora_A.weight | .lora_B.weight     (adapter name removed)
///   base_model.model.&lt;module path&gt;.lora_magnitude_vector               (DoRA; no ".weight", kept for old files)
///   base_model.model.&lt;module path&gt;.&lt;param&gt;                          (modules_to_save; the
///                                                                         "modules_to_save.&lt;adapter&gt;." infix removed)
/// Reading also accepts keys that still carry the adapter name (".lora_A.default.weight",
/// ".lora_magnitude_vector.default.weight", ".modules_to_save.default.weight") and the nested text-model layout
/// (<see cref="SmolVlmWeightNames.NormalizeKey"/>).
/// </summary>
public static class PeftKeys
{
    public const string Prefix = "base_model.model.";
    public const string LoraA = "lora_A.weight";
    public const string LoraB = "lora_B.weight";
    public const string Magnitude = "lora_magnitude_vector";

    /// <summary>The key as written to the file.</summary>
    public static string ToFileKey(string key) => Prefix + key;

    /// <summary>
    /// The model-relative key for a file key, or null when the key lacks the "base_model.model." prefix.
    /// The adapter name <paramref name="adapterName"/> is removed where PEFT would have removed it.
    /// </summary>
    public static string? FromFileKey(string fileKey, string adapterName = "default")
    {
        if (!fileKey.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        string key = fileKey[Prefix.Length..];
        string a = "." + adapterName;
        key = ReplaceSuffix(key, $".lora_A{a}.weight", ".lora_A.weight");
        key = ReplaceSuffix(key, $".lora_B{a}.weight", ".lora_B.weight");
        key = ReplaceSuffix(key, $".lora_magnitude_vector{a}.weight", ".lora_magnitude_vector");
        key = ReplaceSuffix(key, $".lora_magnitude_vector{a}", ".lora_magnitude_vector");
        key = ReplaceSuffix(key, ".lora_magnitude_vector.weight", ".lora_magnitude_vector");
        int infix = key.LastIndexOf($".modules_to_save{a}.", StringComparison.Ordinal);
        if (infix >= 0) key = key[..infix] + key[(infix + $".modules_to_save{a}".Length)..];
        return SmolVlmWeightNames.NormalizeKey(key);
    }

    /// <summary>Splits a model-relative key into (module path, suffix) for the LoRA suffixes; null for other keys.</summary>
    public static (string Module, string Suffix)? SplitLora(string key)
    {
        foreach (string s in new[] { LoraA, LoraB, Magnitude })
            if (key.EndsWith("." + s, StringComparison.Ordinal))
                return (key[..^(s.Length + 1)], s);
        return null;
    }

    static string ReplaceSuffix(string key, string suffix, string replacement) =>
        key.EndsWith(suffix, StringComparison.Ordinal) ? key[..^suffix.Length] + replacement : key;
}
