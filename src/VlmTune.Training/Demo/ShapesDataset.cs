namespace VlmTune.Training.Demo;

/// <summary>The records of one generated "shapes" dataset; images are <see cref="ImageSize"/> × <see cref="ImageSize"/>.</summary>
public sealed record ShapesDataset(int ImageSize, IReadOnlyList<ShapesRecord> Train, IReadOnlyList<ShapesRecord> Eval);
