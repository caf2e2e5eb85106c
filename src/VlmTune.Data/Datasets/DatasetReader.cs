using VlmTune.Data.Datasets.Parquet;

namespace VlmTune.Data.Datasets;

/// <summary>
/// Opens datasets (formats in datasets.md): JSONL files, and parquet — a <c>.parquet</c> file, a folder of shards,
/// or a Hub dataset id resolved through the Hugging Face cache (split and config from <see cref="DatasetOptions"/>).
/// </summary>
public static class DatasetReader
{
    /// <summary>An SFT dataset: "messages" records, or "prompt" + "completion" records (both may be mixed).</summary>
    public static IRecordDataset<SftExample> OpenSft(string path, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        return ParquetFiles.Locate(path, options, options.Log) is { } files
            ? new ParquetDataset<SftExample>(path, files, options, static (parser, row) => row.Parse(parser.ParseSft))
            : new JsonlDataset<SftExample>(path, options, static (parser, root) => parser.ParseSft(root));
    }

    /// <summary>A DPO dataset: "prompt", "chosen", "rejected" (+ "images" / "image").</summary>
    public static IRecordDataset<PreferenceExample> OpenPreference(string path, DatasetOptions? options = null)
    {
        options ??= DatasetOptions.Default;
        return ParquetFiles.Locate(path, options, options.Log) is { } files
            ? new ParquetDataset<PreferenceExample>(path, files, options, static (parser, row) => row.Parse(parser.ParsePreference))
            : new JsonlDataset<PreferenceExample>(path, options, static (parser, root) => parser.ParsePreference(root));
    }

    /// <summary>The files behind <paramref name="path"/>: the parquet shards it resolves to, or the JSONL file itself.</summary>
    public static IReadOnlyList<string> Files(string path, DatasetOptions? options = null) =>
        ParquetFiles.Locate(path, options ?? DatasetOptions.Default, options?.Log) ?? [path];

    /// <summary>True when <paramref name="path"/> names something <see cref="OpenSft"/> can open (a file, a folder, a Hub id).</summary>
    public static bool Exists(string path) => File.Exists(path) || Directory.Exists(path) || Hub.HubLocator.IsHubId(path, Hub.HubRepoType.Dataset);
}
