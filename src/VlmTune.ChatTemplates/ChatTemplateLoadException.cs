namespace VlmTune.ChatTemplates;

/// <summary>No usable chat template could be read from a checkpoint folder; the message names the files looked at.</summary>
public sealed class ChatTemplateLoadException : ChatTemplateException
{
    public ChatTemplateLoadException(string message, Exception? inner = null)
        : base(message, null, null, inner)
    {
    }
}
