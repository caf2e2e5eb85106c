namespace VlmTune.Images.Jpeg;

/// <summary>
/// One colour component of a JPEG frame and its decoded DCT coefficients.
/// Sizes (libjpeg names): Width/Height = downsampled_width/height = ceil(image size × samp / max samp);
/// BlocksWide/High = blocks holding real samples; BlocksPerLine/Column = blocks allocated (whole MCUs).
/// Coefficients: (BlocksPerColumn, BlocksPerLine, 64), natural (row-major) order, not dequantized.
/// </summary>
internal sealed class JpegComponent
{
    public required int Id { get; init; }
    public required int H { get; init; }
    public required int V { get; init; }
    public required int QuantTableId { get; init; }
    public int Width { get; set; }
    public int Height { get; set; }
    public int BlocksWide { get; set; }
    public int BlocksHigh { get; set; }
    public int BlocksPerLine { get; set; }
    public int BlocksPerColumn { get; set; }
    public short[] Coefficients { get; set; } = [];

    /// <summary>Quantization table latched when the component first appears in a scan (natural order).</summary>
    public ushort[]? Quant { get; set; }

    public bool SeenInScan { get; set; }

    // Per-scan entropy state.
    public int DcPredictor { get; set; }
    public HuffmanTable? DcTable { get; set; }
    public HuffmanTable? AcTable { get; set; }
}
