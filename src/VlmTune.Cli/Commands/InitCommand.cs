using System.CommandLine;
using System.Diagnostics;
using VlmTune.Models.SmolVlm.Init;
using VlmTune.Tensors;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune init --like PRESET --out DIR [--seed S] [--dtype bf16|f32] [--force]`: a random-init SmolVLM checkpoint
/// folder with the preset's exact config, its tokenizer/processor/generation files and seeded weights (atomic write).
/// </summary>
public static class InitCommand
{
    const string ResourcePrefix = "VlmTune.Cli.Resources.tiny.";

    public static Command Create()
    {
        var like = new Option<string>("--like")
        {
            Description = $"Model to imitate: {string.Join(", ", InitPreset.All.Select(p => p.Name))}.", Required = true,
        };
        var output = new Option<string>("--out") { Description = "Checkpoint folder to create (must be empty or absent).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed (the weights are a pure function of seed and tensor name).", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string?>("--dtype") { Description = "Storage dtype: bf16 or f32 (default: bf16 for the real sizes, f32 for tiny)." };
        var force = new Option<bool>("--force") { Description = "Replace a non-empty --out folder." };
        var command = new Command("init", "Create a random-init SmolVLM checkpoint folder shaped like a published model.");
        foreach (var o in new Option[] { like, output, seed, dtype, force }) command.Options.Add(o);
        command.SetAction(r =>
        {
            Training.RunDirectory.CheckOutputPath(r.GetValue(output)!, "--out", folder: true);
            return Run(r.GetValue(like)!, r.GetValue(output)!, r.GetValue(seed), r.GetValue(dtype), r.GetValue(force));
        });
        return command;
    }

    static int Run(string like, string output, ulong seed, string? dtypeName, bool force)
    {
        InitPreset preset;
        try { preset = InitPreset.Find(like); }
        catch (ArgumentException e) { throw new UserErrorException($"--like: {e.Message}"); }
        var dtype = dtypeName?.ToLowerInvariant() switch
        {
            null => preset.DefaultDType,
            "bf16" or "bfloat16" => DType.BF16,
            "f32" or "float32" => DType.F32,
            _ => throw new UserErrorException($"--dtype: '{dtypeName}' is not a storage dtype (use bf16 or f32)"),
        };

        var files = preset.BuildFiles(ReadTinyTokenizer(), out var notes);
        var clock = Stopwatch.StartNew();
        InitResult result;
        try { result = CheckpointInitializer.Write(preset.Config, output, seed, dtype, files, force); }
        catch (InitOutputException e) { throw new UserErrorException(e.Message); }
        foreach (string note in notes) Console.Error.WriteLine($"note: {note}");
        Console.WriteLine($"wrote {result.Directory} ({preset.Name}, seed {seed}, {dtype.Name()}): {result.Tensors} tensors, " +
                          $"{result.Parameters} parameters, {result.WeightBytes} bytes of weights in {clock.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"files: {string.Join(", ", result.Files)}");
        return 0;
    }

    /// <summary>The embedded tokenizer.json, tokenizer_config.json and chat_template.json (Resources/tiny).</summary>
    static Dictionary<string, string> ReadTinyTokenizer()
    {
        var assembly = typeof(InitCommand).Assembly;
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string name in new[] { "tokenizer.json", "tokenizer_config.json", "chat_template.json" })
        {
            using var stream = assembly.GetManifestResourceStream(ResourcePrefix + name)
                ?? throw new InvalidOperationException($"resource {ResourcePrefix + name} is missing from the vlmtune assembly");
            using var reader = new StreamReader(stream);
            files[name] = reader.ReadToEnd();
        }
        return files;
    }
}
