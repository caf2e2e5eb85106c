namespace VlmTune.Images.Tests;

public class ExifOrientationTests
{
    // 2x1 image: left pixel (1,1,1), right pixel (2,2,2)
    private static readonly RgbImage TwoByOne = new(2, 1, [1, 1, 1, 2, 2, 2]);

    [Theory]
    [InlineData(1, 2, 1, new byte[] { 1, 2 })]
    [InlineData(2, 2, 1, new byte[] { 2, 1 })]
    [InlineData(3, 2, 1, new byte[] { 2, 1 })]
    [InlineData(4, 2, 1, new byte[] { 1, 2 })]
    [InlineData(5, 1, 2, new byte[] { 1, 2 })]
    [InlineData(6, 1, 2, new byte[] { 1, 2 })]
    [InlineData(7, 1, 2, new byte[] { 2, 1 })]
    [InlineData(8, 1, 2, new byte[] { 2, 1 })]
    public void Applies_each_orientation(int orientation, int w, int h, byte[] firstChannel)
    {
        var o = ExifOrientation.Apply(TwoByOne, orientation);
        Assert.Equal((w, h), (o.Width, o.Height));
        Assert.Equal(firstChannel, o.Pixels.Where((_, i) => i % 3 == 0).ToArray());
    }

    [Fact]
    public void Malformed_exif_means_no_orientation()
    {
        Assert.Equal(1, ExifOrientation.Read("II*\0"u8));
        Assert.Equal(1, ExifOrientation.Read("XX*\0\x08\0\0\0"u8));
        Assert.Equal(1, ExifOrientation.Read("II*\0\xFF\xFF\0\0"u8));
    }
}
