namespace VlmTune.Tensors.Tests.Fixtures;

/// <summary>A fixture file is missing, has the wrong format version, or is malformed.</summary>
public sealed class OpFixtureException : Exception
{
    public OpFixtureException(string message)
        : base(message)
    {
    }

    public OpFixtureException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
