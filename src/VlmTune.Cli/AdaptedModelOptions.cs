using System.CommandLine;
using VlmTune.Models.SmolVlm;
using VlmTune.Models.SmolVlm.Adapters;
using VlmTune.Tensors;

namespace VlmTune.Cli;

/// <summary>
/// The `--adapter` and `--base` options that generate / forward / eval / chat share, and the one way they load a base
/// plus adapter (<see cref="AdaptedModel"/>): by default the base is rebuilt as the adapter was trained against it.
/// </summary>
public static class AdaptedModelOptions
{
    public const string BaseHelp = "With --adapter: as-trained (default) rebuilds the base exactly as recorded in the adapter's " +
        BasePreparation.FileName + " (4-bit quantisation type, blocksize, double quant, compute dtype); original runs the adapter " +
        "on the checkpoint's stored weights. Adapters without the file always run on the stored weights.";

    public static Option<string?> CreateAdapter() => new("--adapter")
    {
        Description = "LoRA adapter folder (PEFT format: adapter_config.json + adapter_model.safetensors); its chat template and processor files are used when present.",
    };

    public static Option<string> CreateBase() => new("--base") { Description = BaseHelp, DefaultValueFactory = _ => "as-trained" };

    public static BaseChoice ParseBase(string value) => value switch
    {
        "as-trained" => BaseChoice.AsTrained,
        "original" => BaseChoice.Original,
        _ => throw new UserErrorException($"--base: expected as-trained or original, got '{value}'"),
    };

    /// <summary>Checks the folders, then loads the model (and the adapter on its as-trained or original base); messages on stderr.</summary>
    public static (SmolVlmModel Model, AdapterSet? Adapters) Load(string modelDir, string? adapterDir, string baseChoice, Device device)
    {
        var choice = ParseBase(baseChoice);
        if (!File.Exists(Path.Combine(modelDir, "config.json"))) throw new UserErrorException($"{modelDir}: no config.json (not a model checkpoint folder)");
        if (adapterDir != null && !File.Exists(Path.Combine(adapterDir, "adapter_config.json")))
            throw new UserErrorException($"{adapterDir}: no adapter_config.json (not a PEFT adapter folder)");
        return AdaptedModel.Load(modelDir, adapterDir, device, choice, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
    }

    /// <summary>
    /// The processor of the run: the adapter's copies of the tokenizer / template / processor files win over the base's;
    /// <paramref name="nonRgbImages"/> is the <c>--non-rgb-images</c> value (null: as the adapter was trained).
    /// </summary>
    public static VlmTune.Data.SmolVlmProcessor Processor(string modelDir, string? adapterDir, string? nonRgbImages = null) =>
        VlmTune.Data.SmolVlmProcessor.FromDirectory(adapterDir != null && File.Exists(Path.Combine(adapterDir, "tokenizer.json"))
            && File.Exists(Path.Combine(adapterDir, "preprocessor_config.json")) ? adapterDir : modelDir)
            .WithNonRgbImages(ImageOptions.Resolve(nonRgbImages, adapterDir));
}
