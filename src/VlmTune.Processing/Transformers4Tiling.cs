using VlmTune.Images;
using VlmTune.Processing.Resampling;

namespace VlmTune.Processing;

/// <summary>
/// Steps 1–3 of <see cref="SmolVlmImageProcessor"/> for a non-RGB image as transformers 4.x's slow processor runs them
/// (<c>models/smolvlm/image_processing_smolvlm.py</c> and <c>models/idefics3/image_processing_idefics3.py</c>,
/// <c>preprocess</c>): the PIL image becomes <c>np.array(image)</c>, every resize is <c>to_pil_image</c> +
/// <c>Image.resize</c> + <c>np.array</c>, and <c>convert_to_rgb</c> (alpha composited over white, a saved palette put
/// back) runs only after the split, on each tile and the global image. By the array Pillow gives:
/// <list type="bullet">
/// <item>RGBA (H, W, 4): an "RGBA" image each resize, which Pillow premultiplies (<see cref="PillowModeResize.Rgba"/>);
///   tiles composited over white (<see cref="WhiteBackground"/>);</item>
/// <item>gray "L", palette indices "P", 1-bit "1" (a bool array, so 0/1) and 16-bit gray "I" (int32): (H, W, 1), which
///   <c>resize</c> turns into a mode-"P" image, so NEAREST (<see cref="PillowModeResize.Nearest"/>); then gray is
///   replicated and indices look up <c>getpalette()</c> — RGB only, so palette transparency is lost. 16-bit values above
///   255 make <c>to_pil_image</c> raise ("values outside the range [0, 255]");</item>
/// <item>gray + alpha (H, W, 2): <c>infer_channel_dimension_format</c> finds no channel axis and raises.</item>
/// </list>
/// </summary>
internal static class Transformers4Tiling
{
    public static TiledImage Tile(SmolVlmImageProcessor processor, DecodedImage image)
    {
        switch (image.Mode)
        {
            case ImageMode.Rgb:
                return processor.Tile(image.ToRgb());
            case ImageMode.Rgba:
                var filter = processor.Config.Resample;
                return processor.Tile(image, image.Width, image.Height,
                    (i, w, h) => PillowModeResize.Rgba(i, w, h, filter, processor.UseAvx2), WhiteBackground.Composite);
            case ImageMode.GrayAlpha:
                throw new UnsupportedImageException(UnsupportedImageException.GrayAlpha);
            default:
                DecodedImage single = SingleChannel(image);
                return processor.Tile(single, single.Width, single.Height, PillowModeResize.Nearest, i => i.ToRgb());
        }
    }

    /// <summary>The one-byte array transformers 4.x resizes: gray, indices, 1-bit as 0/1, 16-bit gray as its (≤ 255) value.</summary>
    static DecodedImage SingleChannel(DecodedImage image)
    {
        switch (image.Mode)
        {
            case ImageMode.Bilevel:
                return new DecodedImage(image.Width, image.Height, ImageMode.Gray, image.Samples.Select(b => (byte)(b != 0 ? 1 : 0)).ToArray());
            case ImageMode.Gray16:
            {
                var s = image.Samples;
                var gray = new byte[image.Width * image.Height];
                int max = 0;
                for (int i = 0; i < gray.Length; i++)
                {
                    int v = s[2 * i] << 8 | s[2 * i + 1];
                    max = Math.Max(max, v);
                    gray[i] = (byte)v;
                }
                if (max > 255)
                    throw new UnsupportedImageException(
                        $"a 16-bit gray image with values up to {max} cannot be processed as transformers 4.x does: its " +
                        "processor raises \"The image to be converted to a PIL image contains values outside the range [0, 255]\"; " +
                        "use non-RGB images = transformers-5 " +
                        "(Pillow clamps to 255) or convert the image to 8 bits");
                return new DecodedImage(image.Width, image.Height, ImageMode.Gray, gray);
            }
            default:   // Gray, Palette
                return image;
        }
    }
}
