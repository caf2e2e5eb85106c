namespace VlmTune.Training.Demo;

/// <summary>
/// One drawn shape, in pixels: the pixel (<see cref="CenterX"/>, <see cref="CenterY"/>) is always inside it, and it lies
/// inside the box of side <see cref="Size"/> centred there (see <see cref="ShapesRenderer"/> for the exact rules).
/// </summary>
public sealed record ShapeInstance(ShapeKind Kind, int CenterX, int CenterY, int Size);
