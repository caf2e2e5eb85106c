namespace VlmTune.Images.Jpeg;

/// <summary>Parameters of one SOS scan (T.81 B.2.3).</summary>
/// <param name="Ss">Start of spectral selection (zig-zag index).</param>
/// <param name="Se">End of spectral selection.</param>
/// <param name="Ah">Successive-approximation bit position high (0 on a first pass).</param>
/// <param name="Al">Successive-approximation bit position low (the point transform).</param>
internal sealed record JpegScan(JpegComponent[] Components, int Ss, int Se, int Ah, int Al);
