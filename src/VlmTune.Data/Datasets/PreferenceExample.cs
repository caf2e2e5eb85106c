using VlmTune.ChatTemplates;

namespace VlmTune.Data.Datasets;

/// <summary>
/// One DPO record after parsing: a prompt (which holds every image), a chosen and a rejected completion (assistant
/// messages), and the images, not yet loaded.
/// </summary>
public sealed record PreferenceExample(RecordSource Source, IReadOnlyList<ChatMessage> Prompt,
    IReadOnlyList<ChatMessage> Chosen, IReadOnlyList<ChatMessage> Rejected, IReadOnlyList<ImageSource> Images);
