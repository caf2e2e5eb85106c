namespace VlmTune.Recipes;

/// <summary>Marker type of this assembly (removed once the project has real types).</summary>
internal static class AssemblyMarker;
