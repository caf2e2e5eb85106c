using VlmTune.ChatTemplates;

namespace VlmTune.Data.Datasets;

/// <summary>
/// One SFT record after parsing: the conversation (content always as parts) and its images, not yet loaded.
/// Messages from <see cref="SupervisedFrom"/> on are the trainable part: 0 for the "messages" format, the number of
/// prompt messages for the "prompt"/"completion" format.
/// </summary>
public sealed record SftExample(RecordSource Source, IReadOnlyList<ChatMessage> Messages, IReadOnlyList<ImageSource> Images, int SupervisedFrom);
