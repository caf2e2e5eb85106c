namespace VlmTune.Training.Demo;

/// <summary>The two questions of the "shapes" task.</summary>
public enum ShapesQuestion
{
    /// <summary>"What colour is the shape?" → "red." / "green." / "blue." / "yellow."</summary>
    Colour,

    /// <summary>"How many shapes?" → "1." / "2." / "3."</summary>
    Count,
}
