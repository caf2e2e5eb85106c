namespace VlmTune.Data.Encoding;

/// <summary>The label value the loss ignores (PyTorch CrossEntropyLoss ignore_index, HF's convention).</summary>
public static class LabelMask
{
    public const int IgnoreIndex = -100;
}
