namespace VlmTune.Models.SmolVlm;

/// <summary>The part of the model a module belongs to (adapter targeting names towers explicitly).</summary>
public enum Tower : byte { Vision, Connector, Text, LmHead }
