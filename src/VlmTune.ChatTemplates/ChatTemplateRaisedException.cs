namespace VlmTune.ChatTemplates;

/// <summary>
/// The template itself called <c>raise_exception(message)</c> (as Hugging Face templates do to reject a conversation,
/// e.g. "Conversation roles must alternate user/assistant/user/assistant/..."). <see cref="Exception.Message"/> is
/// exactly the template's message.
/// </summary>
public sealed class ChatTemplateRaisedException : ChatTemplateException
{
    public ChatTemplateRaisedException(string message, int? line, int? column)
        : base(message, line, column)
    {
    }
}
