namespace VlmTune.Hub;

/// <summary>Bytes of <see cref="File"/> on disk so far (resumed bytes included) out of <see cref="Total"/>.</summary>
public readonly record struct DownloadProgress(string File, long Done, long Total, int Index, int Count);
