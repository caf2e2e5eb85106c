namespace VlmTune.Hub;

/// <summary>
/// A Hub repository could not be resolved or downloaded. The message names the repository, the file where one is
/// involved, and what to do (set HF_TOKEN, unset HF_HUB_OFFLINE, run again to resume).
/// </summary>
public sealed class HubException(string message, Exception? inner = null) : Exception(message, inner);
