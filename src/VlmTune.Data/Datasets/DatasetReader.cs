namespace VlmTune.Data.Datasets;

/// <summary>Opens JSONL datasets (formats in datasets.md).</summary>
public static class DatasetReader
{
    /// <summary>An SFT file: "messages" records, or "prompt" + "completion" records (both may be mixed).</summary>
    public static JsonlDataset<SftExample> OpenSft(string path, DatasetOptions? options = null) =>
        new(path, options ?? DatasetOptions.Default, static (parser, root) => parser.ParseSft(root));

    /// <summary>A DPO file: "prompt", "chosen", "rejected" (+ "images").</summary>
    public static JsonlDataset<PreferenceExample> OpenPreference(string path, DatasetOptions? options = null) =>
        new(path, options ?? DatasetOptions.Default, static (parser, root) => parser.ParsePreference(root));
}
