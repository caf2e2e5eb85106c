using System.Text.Json;
using VlmTune.ChatTemplates;
using VlmTune.Processing;
using VlmTune.Tokenizers;

namespace VlmTune.Data;

/// <summary>
/// Everything needed to turn a conversation with images into model inputs, loaded from a model (processing) directory:
/// <list type="bullet">
/// <item><c>tokenizer.json</c> → <see cref="Tokenizer"/>, with the image token ids (<see cref="TokenIds"/>);</item>
/// <item>the chat template (<c>chat_template.jinja</c> / <c>chat_template.json</c> / <c>tokenizer_config.json</c>);</item>
/// <item><c>preprocessor_config.json</c> (+ <c>processor_config.json</c> for image_seq_len) → <see cref="ImageProcessor"/>;</item>
/// <item><c>tokenizer_config.json</c>: pad_token (default: eos, then <c>&lt;|im_end|&gt;</c>) and model_max_length.</item>
/// </list>
/// Immutable; safe to share across threads.
/// </summary>
public sealed class SmolVlmProcessor
{
    /// <summary>Used when tokenizer_config.json gives no usable model_max_length (SmolVLM's own value).</summary>
    public const int DefaultMaxLength = 8192;

    public Tokenizer Tokenizer { get; }
    public ChatTemplate ChatTemplate { get; }
    public ImageProcessorConfig ImageConfig { get; }
    public SmolVlmImageProcessor ImageProcessor { get; }
    /// <summary>The same processor with image splitting off (global image only): the ShrinkImages fallback.</summary>
    public SmolVlmImageProcessor GlobalOnlyImageProcessor { get; }
    public ImagePromptExpander Expander { get; }
    public ImageTokenIds TokenIds { get; }
    public int PadId { get; }
    /// <summary>The end-of-turn text (<c>&lt;end_of_utterance&gt;</c>): the last supervised token of an assistant turn.</summary>
    public string EndOfTurn { get; }
    public int MaxLength { get; }

    public SmolVlmProcessor(Tokenizer tokenizer, ChatTemplate chatTemplate, ImageProcessorConfig imageConfig,
        int padId, int maxLength, string tokenizerSource = "tokenizer.json")
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(chatTemplate);
        ArgumentNullException.ThrowIfNull(imageConfig);
        if (maxLength <= 0) throw new ArgumentOutOfRangeException(nameof(maxLength), $"must be positive, got {maxLength}");
        Tokenizer = tokenizer;
        ChatTemplate = chatTemplate;
        ImageConfig = imageConfig;
        ImageProcessor = new SmolVlmImageProcessor(imageConfig);
        GlobalOnlyImageProcessor = new SmolVlmImageProcessor(imageConfig with { DoImageSplitting = false });
        Expander = new ImagePromptExpander(imageConfig);
        TokenIds = ImageTokenIds.FromTokenizer(tokenizer, tokenizerSource);
        EndOfTurn = chatTemplate.EosToken ?? "<end_of_utterance>";
        PadId = padId;
        MaxLength = maxLength;
    }

    /// <summary>This processor with another maximum sequence length.</summary>
    public SmolVlmProcessor WithMaxLength(int maxLength) =>
        new(Tokenizer, ChatTemplate, ImageConfig, PadId, maxLength);

    /// <summary>This processor with non-RGB images processed as the given transformers release does.</summary>
    public SmolVlmProcessor WithNonRgbImages(NonRgbImages behaviour) =>
        behaviour == ImageConfig.NonRgbImages ? this
            : new(Tokenizer, ChatTemplate, ImageConfig with { NonRgbImages = behaviour }, PadId, MaxLength);

    /// <summary>Loads a model processing directory (see the type summary for the files read).</summary>
    /// <param name="maxLength">Overrides tokenizer_config.json's model_max_length.</param>
    /// <exception cref="ModelDirectoryException">A file is missing or malformed, or a required token is unknown.</exception>
    public static SmolVlmProcessor FromDirectory(string dir, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(dir);
        if (!Directory.Exists(dir)) throw new ModelDirectoryException(dir, "model directory does not exist");
        string tokenizerPath = System.IO.Path.Combine(dir, "tokenizer.json");
        if (!File.Exists(tokenizerPath))
            throw new ModelDirectoryException(tokenizerPath, "not found (VlmTune reads the fast-tokenizer file tokenizer.json)");
        var tokenizer = Tokenizer.FromFile(tokenizerPath);
        var template = ChatTemplate.FromCheckpoint(dir);

        string preprocessorPath = System.IO.Path.Combine(dir, "preprocessor_config.json");
        if (!File.Exists(preprocessorPath)) throw new ModelDirectoryException(preprocessorPath, "not found");
        string processorPath = System.IO.Path.Combine(dir, "processor_config.json");
        var imageConfig = ImageProcessorConfig.Load(preprocessorPath, File.Exists(processorPath) ? processorPath : null);

        string configPath = System.IO.Path.Combine(dir, "tokenizer_config.json");
        string? padToken = null;
        int? modelMaxLength = null;
        if (File.Exists(configPath)) (padToken, modelMaxLength) = ReadTokenizerConfig(configPath);

        int padId;
        if (padToken is not null)
            padId = tokenizer.TokenToId(padToken) ?? throw new ModelDirectoryException(configPath,
                $"pad_token \"{padToken}\" is not a token of tokenizer.json");
        else
            padId = tokenizer.TokenToId(template.EosToken ?? "<end_of_utterance>") ?? tokenizer.TokenToId("<|im_end|>")
                ?? throw new ModelDirectoryException(configPath, "no pad_token, and neither the eos token nor <|im_end|> exists");

        int length = maxLength ?? modelMaxLength ?? DefaultMaxLength;
        if (length <= 0) throw new ModelDirectoryException(dir, $"max length must be positive, got {length}");
        return new SmolVlmProcessor(tokenizer, template, imageConfig, padId, length, tokenizerPath);
    }

    private static (string? PadToken, int? MaxLength) ReadTokenizerConfig(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllBytes(path)); }
        catch (JsonException e)
        {
            throw new ModelDirectoryException(path, $"invalid JSON at line {e.LineNumber + 1}: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new ModelDirectoryException(path, "expected a JSON object");
            string? pad = null;
            if (root.TryGetProperty("pad_token", out var p))
            {
                pad = p.ValueKind switch
                {
                    JsonValueKind.String => p.GetString(),
                    JsonValueKind.Null => null,
                    JsonValueKind.Object when p.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String => c.GetString(),
                    _ => throw new ModelDirectoryException(path, "pad_token: expected a string, null or {\"content\": ...}"),
                };
            }
            int? max = null;
            // transformers writes 1e30 (VERY_LARGE_INTEGER) when the length is unknown: treat anything huge as unset.
            if (root.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number
                && m.TryGetDouble(out double d) && d >= 1 && d <= int.MaxValue)
                max = (int)d;
            return (pad, max);
        }
    }
}
