using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using VlmTune.ChatTemplates;
using VlmTune.Data;
using VlmTune.Images;
using VlmTune.Models.SmolVlm;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune generate --model DIR [--adapter A [--base as-trained|original]] (--prompt TEXT [--image IMG]... [--system TEXT]
/// | --input-ids 1,2,3) [--max-new-tokens N] [--temperature T] [--top-p P] [--seed S]`: renders one user turn (after an
/// optional system turn) with the chat template (add_generation_prompt), processes and expands the images in order,
/// decodes with the KV cache until &lt;end_of_utterance&gt;, prints the text on stdout and the speed on stderr.
/// Temperature 0 is greedy. An adapter runs on the base it was trained against (see <see cref="AdaptedModelOptions"/>).
/// </summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model checkpoint folder (weights, tokenizer, chat template, processor).", Required = true };
        var adapter = AdaptedModelOptions.CreateAdapter();
        var baseChoice = AdaptedModelOptions.CreateBase();
        var image = new Option<string[]>("--image") { Description = "An image (PNG or JPEG) placed before the prompt text; repeat for several, in order." };
        var system = new Option<string?>("--system") { Description = "A system message before the user turn." };
        var prompt = new Option<string?>("--prompt") { Description = "The user's text." };
        var inputIds = new Option<string?>("--input-ids") { Description = "Raw prompt token ids (\"1,2,3\"), instead of --prompt; no image." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens to generate.", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (with a temperature > 0).", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed.", DefaultValueFactory = _ => 0 };
        var device = DeviceSelection.CreateOption();
        var nonRgb = ImageOptions.CreateNonRgbImages();
        var command = new Command("generate", "Generate a reply to images and a prompt.");
        foreach (var o in new Option[] { model, adapter, baseChoice, image, system, prompt, inputIds, maxNew, temperature, topP, seed, device, nonRgb }) command.Options.Add(o);
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(adapter), r.GetValue(baseChoice)!, r.GetValue(image) ?? [], r.GetValue(system),
            r.GetValue(prompt), r.GetValue(inputIds), r.GetValue(device), r.GetValue(nonRgb),
            new GenerationOptions { MaxNewTokens = r.GetValue(maxNew), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP), Seed = r.GetValue(seed) }));
        return command;
    }

    static int Run(string modelDir, string? adapter, string baseChoice, string[] imagePaths, string? system, string? prompt, string? inputIds,
        string? deviceName, string? nonRgbImages, GenerationOptions options)
    {
        if ((prompt is null) == (inputIds is null)) throw new UserErrorException("give exactly one of --prompt and --input-ids");
        if (imagePaths.Length > 0 && prompt is null) throw new UserErrorException("--image needs --prompt (the chat template places it)");
        if (system != null && prompt is null) throw new UserErrorException("--system needs --prompt (the chat template places it)");
        CheckOptions(options);
        if (!Directory.Exists(modelDir)) throw new UserErrorException($"{modelDir}: model folder does not exist");
        foreach (var p in imagePaths)
            if (!File.Exists(p)) throw new UserErrorException($"{p}: image not found");

        var processor = AdaptedModelOptions.Processor(modelDir, adapter, nonRgbImages);
        var device = DeviceSelection.Resolve(deviceName, null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
        var (net, _) = AdaptedModelOptions.Load(modelDir, adapter, baseChoice, device);
        SmolVlmInputs inputs;
        if (prompt is null) inputs = FromIds(inputIds!, net.Config.Text.VocabSize);
        else
        {
            var messages = new List<ChatMessage>();
            if (system != null) messages.Add(new ChatMessage("system", [ContentPart.FromText(system)]));
            messages.Add(UserTurn(prompt, imagePaths.Length));
            inputs = FromConversation(processor, messages, imagePaths.Select(ImageOptions.Open).ToArray(), imagePaths);
        }

        var clock = Stopwatch.StartNew();
        var (tokens, _) = Generator.Generate(net, inputs, options with { StopTokenIds = [processor.TokenIds.EndOfUtterance] });
        double seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(processor.Tokenizer.Decode(ReplyIds(tokens, processor)));
        Console.Error.WriteLine($"{inputs.Length} prompt tokens, {tokens.Length} new tokens in {seconds:F2} s " +
                                $"({tokens.Length / Math.Max(seconds, 1e-9):F1} tokens/s including the prefill)" +
                                (tokens.Length > 0 && tokens[^1] == processor.TokenIds.EndOfUtterance ? ", stopped at <end_of_utterance>" : ""));
        return 0;
    }

    internal static void CheckOptions(GenerationOptions options)
    {
        if (options.MaxNewTokens < 1) throw new UserErrorException($"--max-new-tokens must be at least 1, got {options.MaxNewTokens}");
        if (options.Temperature < 0 || !float.IsFinite(options.Temperature)) throw new UserErrorException($"--temperature must be ≥ 0, got {options.Temperature}");
        if (!(options.TopP > 0 && options.TopP <= 1)) throw new UserErrorException($"--top-p must be in (0, 1], got {options.TopP}");
    }

    /// <summary>The generated ids without the stop token.</summary>
    internal static int[] ReplyIds(IEnumerable<long> tokens, SmolVlmProcessor processor) =>
        tokens.Where(t => t != processor.TokenIds.EndOfUtterance).Select(t => (int)t).ToArray();

    /// <summary>A user turn: one image part per image (in order), then the text.</summary>
    internal static ChatMessage UserTurn(string text, int images) =>
        new("user", [.. Enumerable.Repeat(ContentPart.Image(), images), ContentPart.FromText(text)]);

    internal static SmolVlmInputs FromPrompt(SmolVlmProcessor processor, string prompt, string? imagePath) =>
        FromConversation(processor, [UserTurn(prompt, imagePath is null ? 0 : 1)], imagePath is null ? [] : [ImageOptions.Open(imagePath)],
            imagePath is null ? null : [imagePath]);

    /// <summary>
    /// The prompt for the next assistant turn of a conversation: rendered with the chat template (add_generation_prompt),
    /// each &lt;image&gt; expanded for the next image in order. The images must match the image parts in number;
    /// <paramref name="labels"/> (file names) name an image the processor refuses.
    /// </summary>
    internal static SmolVlmInputs FromConversation(SmolVlmProcessor processor, IReadOnlyList<ChatMessage> messages, IReadOnlyList<DecodedImage> images,
        IReadOnlyList<string>? labels = null)
    {
        string text = processor.ChatTemplate.Render(messages, addGenerationPrompt: true);
        if (images.Count == 0)
            return new SmolVlmInputs { InputIds = Encode(processor, text), Batch = 1 };
        var processed = ImageOptions.Process(processor.ImageProcessor, images, labels);
        return new SmolVlmInputs
        {
            InputIds = Encode(processor, processor.Expander.Expand(text, processed)),
            Batch = 1,
            PixelValues = processed.PixelValues,
            TilesPerSample = processed.TileCount,
            TileSize = processed.TileSize,
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
