using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VlmTune.ChatTemplates;
using VlmTune.Data;
using VlmTune.Images;
using VlmTune.Models.SmolVlm;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune generate --model DIR (--prompt TEXT [--image IMG] | --input-ids 1,2,3) [--max-new-tokens N]
/// [--temperature T] [--top-p P] [--seed S]`: renders one user turn with the model folder's chat template
/// (add_generation_prompt), processes and expands the image, decodes with the KV cache until &lt;end_of_utterance&gt;,
/// prints the text on stdout and the speed on stderr. Temperature 0 is greedy.
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model checkpoint folder (weights, tokenizer, chat template, processor).", Required = true };
        var adapter = new Option<string?>("--adapter") { Description = "LoRA adapter folder (PEFT format: adapter_config.json + adapter_model.safetensors); its chat template and processor files are used when present." };
        var image = new Option<string?>("--image") { Description = "An image (PNG or JPEG) placed before the prompt text." };
        var prompt = new Option<string?>("--prompt") { Description = "The user's text." };
        var inputIds = new Option<string?>("--input-ids") { Description = "Raw prompt token ids (\"1,2,3\"), instead of --prompt; no image." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (with a temperature > 0).", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var device = DeviceSelection.CreateOption();
        var command = new Command("generate", "Generate a reply to an image and a prompt.");
        foreach (var o in new Option[] { model, adapter, image, prompt, inputIds, maxNew, temperature, topP, seed, device }) command.Options.Add(o);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(adapter), r.GetValue(image), r.GetValue(prompt), r.GetValue(inputIds), r.GetValue(device),
            new GenerationOptions { MaxNewTokens = r.GetValue(maxNew), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP), Seed = r.GetValue(seed) }));
        return command;
    }

    static int Run(string modelDir, string? adapter, string? imagePath, string? prompt, string? inputIds, string? deviceName, GenerationOptions options)
    {
        if (adapter != null && !File.Exists(Path.Combine(adapter, "adapter_config.json")))
            throw new UserErrorException($"{adapter}: no adapter_config.json (not a PEFT adapter folder)");
        if ((prompt is null) == (inputIds is null)) throw new UserErrorException("give exactly one of --prompt and --input-ids");
        if (imagePath != null && prompt is null) throw new UserErrorException("--image needs --prompt (the chat template places it)");
        if (options.MaxNewTokens < 1) throw new UserErrorException($"--max-new-tokens must be at least 1, got {options.MaxNewTokens}");
        if (options.Temperature < 0 || !float.IsFinite(options.Temperature)) throw new UserErrorException($"--temperature must be ≥ 0, got {options.Temperature}");
        if (!(options.TopP > 0 && options.TopP <= 1)) throw new UserErrorException($"--top-p must be in (0, 1], got {options.TopP}");
        if (!Directory.Exists(modelDir)) throw new UserErrorException($"{modelDir}: model folder does not exist");

        var processor = SmolVlmProcessor.FromDirectory(modelDir);
        var device = DeviceSelection.Resolve(deviceName, null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
        var net = SmolVlmModel.Load(modelDir, device, out _);
        if (adapter != null)
        {
            var set = VlmTune.Models.SmolVlm.Adapters.AdapterSet.Load(net, adapter);
            Console.Error.WriteLine($"adapter: {set.Adapters.Count} LoRA modules, {set.SavedModules.Count} saved modules from {adapter}");
        }
        var inputs = prompt is null ? FromIds(inputIds!, net.Config.Text.VocabSize) : FromPrompt(processor, prompt, imagePath);

        var clock = Stopwatch.StartNew();
        var (tokens, _) = Generator.Generate(net, inputs, options with { StopTokenIds = [processor.TokenIds.EndOfUtterance] });
        double seconds = clock.Elapsed.TotalSeconds;
        var text = tokens.Where(t => t != processor.TokenIds.EndOfUtterance).Select(t => (int)t).ToArray();
        Console.WriteLine(processor.Tokenizer.Decode(text));
        Console.Error.WriteLine($"{inputs.Length} prompt tokens, {tokens.Length} new tokens in {seconds:F2} s " +
                                $"({tokens.Length / Math.Max(seconds, 1e-9):F1} tokens/s including the prefill)" +
                                (tokens.Length > 0 && tokens[^1] == processor.TokenIds.EndOfUtterance ? ", stopped at <end_of_utterance>" : ""));
        return 0;
    }

    internal static SmolVlmInputs FromPrompt(SmolVlmProcessor processor, string prompt, string? imagePath)
    {
        List<ContentPart> parts = imagePath is null ? [ContentPart.FromText(prompt)] : [ContentPart.Image(), ContentPart.FromText(prompt)];
        string text = processor.ChatTemplate.Render([new ChatMessage("user", parts)], addGenerationPrompt: true);
        if (imagePath is null)
            return new SmolVlmInputs { InputIds = Encode(processor, text), Batch = 1 };
        if (!File.Exists(imagePath)) throw new UserErrorException($"{imagePath}: image not found");
        var images = processor.ImageProcessor.Process([ImageDecoder.Load(imagePath)]);
        return new SmolVlmInputs
        {
            InputIds = Encode(processor, processor.Expander.Expand(text, images)),
            Batch = 1,
            PixelValues = images.PixelValues,
            TilesPerSample = images.TileCount,
            TileSize = images.TileSize,
        };
    }

    static long[] Encode(SmolVlmProcessor processor, string text) =>
        processor.Tokenizer.Encode(text, addSpecialTokens: false).Select(i => (long)i).ToArray();

    static SmolVlmInputs FromIds(string list, int vocab)
    {
        var pieces = list.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries);
        if (pieces.Length == 0) throw new UserErrorException("--input-ids: no ids given");
        var ids = pieces.Select((p, i) => long.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out long id) && id >= 0 && id < vocab ? id
            : throw new UserErrorException($"--input-ids: item {i + 1} \"{p}\" is not a token id (0..{vocab - 1})")).ToArray();
        return new SmolVlmInputs { InputIds = ids, Batch = 1 };
    }
}
