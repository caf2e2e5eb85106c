namespace VlmTune.Data;

/// <summary>Marker type for the data pipeline assembly (datasets, label masking, collation).</summary>
public static class DataAssembly;
