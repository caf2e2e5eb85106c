using System.Text.Json;
using System.Text.Json.Nodes;

namespace VlmTune.Models.SmolVlm.Init;

/// <summary>
/// The small JSON files of a SmolVLM checkpoint folder besides config.json and the tokenizer: the image processor
/// settings (preprocessor_config.json, processor_config.json; spec smolvlm.md §4.1) and generation_config.json (§2.8).
/// </summary>
public static class CheckpointFileTexts
{
    static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>preprocessor_config.json: LANCZOS, rescale 1/255, mean/std 0.5, splitting on.</summary>
    /// <param name="longestEdge">size.longest_edge (stage-1 resize target).</param>
    /// <param name="maxImageSize">max_image_size.longest_edge (the tile edge).</param>
    /// <param name="processorType">image_processor_type, e.g. "Idefics3ImageProcessor".</param>
    public static string PreprocessorConfig(int longestEdge, int maxImageSize, string processorType) => Write(new JsonObject
    {
        ["do_convert_rgb"] = true,
        ["do_image_splitting"] = true,
        ["do_normalize"] = true,
        ["do_pad"] = true,
        ["do_rescale"] = true,
        ["do_resize"] = true,
        ["image_mean"] = new JsonArray(0.5, 0.5, 0.5),
        ["image_processor_type"] = processorType,
        ["image_std"] = new JsonArray(0.5, 0.5, 0.5),
        ["max_image_size"] = new JsonObject { ["longest_edge"] = maxImageSize },
        ["resample"] = 1,
        ["rescale_factor"] = 0.00392156862745098,
        ["size"] = new JsonObject { ["longest_edge"] = longestEdge },
    });

    /// <summary>processor_config.json: image_seq_len (image tokens per tile) and the processor class.</summary>
    public static string ProcessorConfig(int imageSeqLen, string processorClass) => Write(new JsonObject
    {
        ["image_seq_len"] = imageSeqLen,
        ["processor_class"] = processorClass,
    });

    /// <summary>generation_config.json: generation stops on <paramref name="endOfUtteranceId"/> (&lt;end_of_utterance&gt;).</summary>
    public static string GenerationConfig(int bosId, int endOfUtteranceId, int padId) => Write(new JsonObject
    {
        ["bos_token_id"] = bosId,
        ["eos_token_id"] = endOfUtteranceId,
        ["pad_token_id"] = padId,
    });

    static string Write(JsonObject o) => o.ToJsonString(Indented) + "\n";
}
