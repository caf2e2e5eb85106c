namespace VlmTune.Data.Datasets;

/// <summary>Which record shape a JSONL file holds (see datasets.md).</summary>
public enum DatasetKind
{
    /// <summary>Supervised fine-tuning: "messages", or "prompt" + "completion".</summary>
    Sft,
    /// <summary>Preference pairs for DPO: "prompt", "chosen", "rejected".</summary>
    Dpo,
}
