namespace VlmTune.Models.SmolVlm;

/// <summary>Inputs that cannot be run through the model (e.g. `&lt;image&gt;` tokens that do not match the images); the message gives both numbers.</summary>
public sealed class ModelInputException(string message) : Exception(message);
