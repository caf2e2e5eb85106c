namespace VlmTune.Images.Jpeg;

/// <summary>
/// The output stage: IDCT of every block that holds real samples (component planes of BlocksHigh·8 rows ×
/// BlocksWide·8 columns), then per output row: upsample each component (<see cref="JpegUpsampler"/>) and convert
/// to RGB (<see cref="JpegColorConverter"/>); a gray image keeps its one channel (Pillow's mode "L").
/// </summary>
internal static class JpegPixels
{
    public static DecodedImage Render(JpegComponent[] comps, int width, int height, int maxH, int maxV, JpegColorSpace space,
        string source)
    {
        var upsamplers = new JpegUpsampler[comps.Length];
        for (int i = 0; i < comps.Length; i++)
        {
            var c = comps[i];
            int stride = c.BlocksWide * 8;
            var plane = new byte[checked(stride * c.BlocksHigh * 8)];
            var quant = c.Quant!;
            for (int by = 0; by < c.BlocksHigh; by++)
            {
                for (int bx = 0; bx < c.BlocksWide; bx++)
                {
                    var coef = c.Coefficients.AsSpan((by * c.BlocksPerLine + bx) * 64, 64);
                    JpegIdct.Transform(coef, quant, plane, by * 8 * stride + bx * 8, stride);
                }
            }
            c.Coefficients = [];   // release early; the planes are all that is needed now
            upsamplers[i] = new JpegUpsampler(c, plane, stride, maxH, maxV, width, source);
        }

        if (space == JpegColorSpace.Gray)
        {
            var gray = new byte[checked(width * height)];
            for (int y = 0; y < height; y++) upsamplers[0].Row(y)[..width].CopyTo(gray.AsSpan(y * width, width));
            return new DecodedImage(width, height, ImageMode.Gray, gray);
        }
        var rgb = new byte[checked(width * height * 3)];
        for (int y = 0; y < height; y++)
        {
            var outRow = rgb.AsSpan(y * width * 3, width * 3);
            switch (space)
            {
                case JpegColorSpace.YCbCr:
                    JpegColorConverter.YccRow(upsamplers[0].Row(y), upsamplers[1].Row(y), upsamplers[2].Row(y), outRow, width);
                    break;
                default:
                    JpegColorConverter.RgbRow(upsamplers[0].Row(y), upsamplers[1].Row(y), upsamplers[2].Row(y), outRow, width);
                    break;
            }
        }
        return new DecodedImage(width, height, ImageMode.Rgb, rgb);
    }
}
