using System.Text.Json;
using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Init;

/// <summary>How a preset gets its tokenizer files from VlmTune's tiny tokenizer.</summary>
public enum TokenizerLayout
{
    /// <summary>The tiny tokenizer as is (vocab 4128, &lt;image&gt; = 4038).</summary>
    Tiny,
    /// <summary>Stretched to the 256M/500M ids (<see cref="TokenizerVocabLayout"/>; vocab 49280, &lt;image&gt; = 49190).</summary>
    SmolVlm256M,
    /// <summary>None written: SmolVLM-Instruct (2.2B) has its own layout (&lt;image&gt; = 49153, no &lt;global-img&gt; token).</summary>
    None,
}

/// <summary>
/// A model `vlmtune init --like NAME` can create: the exact config, the default storage dtype, the processor
/// settings (spec smolvlm.md §4.1) and where the tokenizer files come from.
/// </summary>
public sealed record InitPreset(string Name, SmolVlmConfig Config, DType DefaultDType, int LongestEdge, int MaxImageSize,
    TokenizerLayout Tokenizer, string ProcessorClass, string ImageProcessorType)
{
    /// <summary>The names `--like` accepts.</summary>
    public static IReadOnlyList<InitPreset> All { get; } =
    [
        new("smolvlm-256m", SmolVlmConfig.SmolVlm256M(), DType.BF16, 2048, 512, TokenizerLayout.SmolVlm256M, "Idefics3Processor", "Idefics3ImageProcessor"),
        new("smolvlm-500m", SmolVlmConfig.SmolVlm500M(), DType.BF16, 2048, 512, TokenizerLayout.SmolVlm256M, "Idefics3Processor", "Idefics3ImageProcessor"),
        new("smolvlm-2.2b", SmolVlmConfig.SmolVlm2B(), DType.BF16, 1536, 384, TokenizerLayout.None, "Idefics3Processor", "Idefics3ImageProcessor"),
        new("tiny", SmolVlmConfig.Tiny(4128, 4038), DType.F32, 64, 32, TokenizerLayout.Tiny, "SmolVLMProcessor", "SmolVLMImageProcessor"),
    ];

    /// <summary>The preset called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No such preset; the message lists the known names.</exception>
    public static InitPreset Find(string name) =>
        All.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown model preset '{name}'; known: {string.Join(", ", All.Select(p => p.Name))}");

    /// <summary>
    /// The non-weight files of the checkpoint folder (config.json excluded): tokenizer files derived from
    /// <paramref name="tinyTokenizer"/> (tokenizer.json, tokenizer_config.json, chat_template.json), processor files and
    /// generation_config.json. Checks that the tokenizer's &lt;image&gt; id and size agree with the config.
    /// <paramref name="notes"/> says what was left out and why.
    /// </summary>
    public Dictionary<string, string> BuildFiles(IReadOnlyDictionary<string, string> tinyTokenizer, out List<string> notes)
    {
        notes = [];
        var files = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["preprocessor_config.json"] = CheckpointFileTexts.PreprocessorConfig(LongestEdge, MaxImageSize, ImageProcessorType),
            ["processor_config.json"] = CheckpointFileTexts.ProcessorConfig(Config.ImageSeqLen, ProcessorClass),
            ["chat_template.json"] = Require(tinyTokenizer, "chat_template.json"),
        };
        int endOfUtterance;
        if (Tokenizer == TokenizerLayout.None)
        {
            // Spec §1.5: the 2.2B tokenizer adds only <fake_token_around_image>, <image>, <end_of_utterance> at 49152..49154.
            endOfUtterance = Config.ImageTokenId + 1;
            notes.Add($"{Name}: no tokenizer.json / tokenizer_config.json written: its tokenizer layout (<image> = {Config.ImageTokenId}, " +
                      "<global-img> and <row_r_col_c> as plain text) cannot be derived from VlmTune's tiny tokenizer; copy them from the real checkpoint");
        }
        else
        {
            string json = Require(tinyTokenizer, "tokenizer.json");
            if (Tokenizer == TokenizerLayout.SmolVlm256M) json = TokenizerVocabLayout.Stretch(json);
            endOfUtterance = CheckTokenizer(json);
            files["tokenizer.json"] = json;
            files["tokenizer_config.json"] = Require(tinyTokenizer, "tokenizer_config.json");
        }
        files["generation_config.json"] = CheckpointFileTexts.GenerationConfig(Config.Text.BosTokenId ?? 1, endOfUtterance, Config.Text.PadTokenId ?? 2);
        return files;
    }

    static string Require(IReadOnlyDictionary<string, string> files, string name) =>
        files.TryGetValue(name, out var text) ? text : throw new ArgumentException($"tokenizer file '{name}' was not supplied");

    /// <summary>Returns the &lt;end_of_utterance&gt; id after checking &lt;image&gt; and the vocabulary size against the config.</summary>
    int CheckTokenizer(string tokenizerJson)
    {
        using var doc = JsonDocument.Parse(tokenizerJson);
        int maxId = -1, image = -1, eou = -1;
        foreach (var v in doc.RootElement.GetProperty("model").GetProperty("vocab").EnumerateObject()) maxId = Math.Max(maxId, v.Value.GetInt32());
        foreach (var t in doc.RootElement.GetProperty("added_tokens").EnumerateArray())
        {
            int id = t.GetProperty("id").GetInt32();
            maxId = Math.Max(maxId, id);
            string? content = t.GetProperty("content").GetString();
            if (content == "<image>") image = id;
            if (content == "<end_of_utterance>") eou = id;
        }
        if (image != Config.ImageTokenId || maxId + 1 != Config.Text.VocabSize || eou < 0)
            throw new InvalidOperationException($"{Name}: the tokenizer (vocab {maxId + 1}, <image> = {image}, <end_of_utterance> = {eou}) " +
                                                $"does not fit the config (vocab {Config.Text.VocabSize}, image_token_id {Config.ImageTokenId})");
        return eou;
    }
}
