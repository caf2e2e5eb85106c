namespace VlmTune.Training.Demo;

/// <summary>The four colours of the "shapes" task (RGB values in <see cref="ShapesRenderer.Rgb"/>); the answer is the lower-case name.</summary>
public enum ShapeColour { Red, Green, Blue, Yellow }
