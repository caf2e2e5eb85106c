namespace VlmTune.Training.Demo;

/// <summary>The filled shapes of the synthetic "shapes" task.</summary>
public enum ShapeKind { Circle, Square, Triangle }
