using VlmTune.Images;

namespace VlmTune.Training.Demo;

/// <summary>
/// Draws filled shapes of one colour on white, without anti-aliasing (every pixel is white or exactly the colour).
/// Pixel (x, y) has its centre at (x + ½, y + ½); with dx, dy its offset from the shape's centre point
/// (CenterX, CenterY) and h = Size / 2 it is inside a
/// circle when dx² + dy² ≤ h², square when |dx| ≤ h and |dy| ≤ h, triangle (apex up) when |dy| ≤ h and |dx| ≤ (dy + h) / 2.
/// </summary>
public static class ShapesRenderer
{
    /// <summary>The exact RGB of a colour.</summary>
    public static (byte R, byte G, byte B) Rgb(ShapeColour colour) => colour switch
    {
        ShapeColour.Red => (220, 30, 30),
        ShapeColour.Green => (30, 160, 50),
        ShapeColour.Blue => (30, 70, 220),
        ShapeColour.Yellow => (240, 200, 20),
        _ => throw new ArgumentOutOfRangeException(nameof(colour), colour, "unknown shape colour"),
    };

    public static RgbImage Render(int size, ShapeColour colour, IReadOnlyList<ShapeInstance> shapes)
    {
        var image = new RgbImage(size, size);
        Array.Fill(image.Pixels, (byte)255);
        var (r, g, b) = Rgb(colour);
        foreach (var shape in shapes)
        {
            int h = shape.Size / 2 + 1;
            for (int y = Math.Max(0, shape.CenterY - h); y <= Math.Min(size - 1, shape.CenterY + h); y++)
            for (int x = Math.Max(0, shape.CenterX - h); x <= Math.Min(size - 1, shape.CenterX + h); x++)
            {
                if (!Contains(shape, x, y)) continue;
                int at = (y * size + x) * 3;
                image.Pixels[at] = r;
                image.Pixels[at + 1] = g;
                image.Pixels[at + 2] = b;
            }
        }
        return image;
    }

    /// <summary>Whether pixel (x, y) is inside <paramref name="shape"/> (rules in the type summary).</summary>
    public static bool Contains(ShapeInstance shape, int x, int y)
    {
        double dx = x + 0.5 - shape.CenterX, dy = y + 0.5 - shape.CenterY, h = shape.Size / 2.0;
        return shape.Kind switch
        {
            ShapeKind.Circle => dx * dx + dy * dy <= h * h,
            ShapeKind.Square => Math.Abs(dx) <= h && Math.Abs(dy) <= h,
            ShapeKind.Triangle => Math.Abs(dy) <= h && Math.Abs(dx) <= (dy + h) / 2,
            _ => throw new ArgumentOutOfRangeException(nameof(shape), shape.Kind, "unknown shape kind"),
        };
    }
}
