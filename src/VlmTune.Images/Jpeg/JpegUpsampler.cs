namespace VlmTune.Images.Jpeg;

/// <summary>
/// Chroma upsampling as libjpeg-turbo does by default (do_fancy_upsampling = TRUE, so the merged upsampler is
/// never used): h2v1 and h2v2 use the "fancy" triangle filter (3/4 nearer + 1/4 further sample, alternating
/// rounding biases) when the component is more than 2 samples wide, h1v2 (4:4:0) uses the vertical triangle
/// filter, and every other integral ratio (4:1:1, narrow h2 images, ...) replicates samples (box filter). Rows
/// above the first and below the last real row are copies of them (libjpeg's context-row edge handling).
/// </summary>
internal sealed class JpegUpsampler
{
    private enum Mode { Full, H2V1Fancy, H1V2Fancy, H2V2Fancy, Replicate }

    private readonly byte[] _plane;      // IDCT output: (BlocksHigh·8, stride)
    private readonly int _stride, _width, _height, _hExpand, _vExpand;
    private readonly Mode _mode;
    private readonly byte[] _row;        // one upsampled output row (width ≥ image width)

    public JpegUpsampler(JpegComponent c, byte[] plane, int stride, int maxH, int maxV, int imageWidth, string source)
    {
        _plane = plane;
        _stride = stride;
        _width = c.Width;
        _height = c.Height;
        if (maxH % c.H != 0 || maxV % c.V != 0)
            throw new ImageFormatException(source,
                $"unsupported JPEG sampling: component {c.Id} is {c.H}x{c.V} with maximum {maxH}x{maxV} (fractional ratio)");
        _hExpand = maxH / c.H;
        _vExpand = maxV / c.V;
        _mode = (_hExpand, _vExpand) switch
        {
            (1, 1) => Mode.Full,
            (2, 1) when _width > 2 => Mode.H2V1Fancy,
            (1, 2) => Mode.H1V2Fancy,
            (2, 2) when _width > 2 => Mode.H2V2Fancy,
            _ => Mode.Replicate,
        };
        _row = new byte[Math.Max(imageWidth, _width * _hExpand) + 1];
    }

    /// <summary>Returns output row <paramref name="y"/> at full resolution (valid up to the image width).</summary>
    public ReadOnlySpan<byte> Row(int y)
    {
        switch (_mode)
        {
            case Mode.Full:
                return _plane.AsSpan(y * _stride, _width);
            case Mode.H2V1Fancy:
                H2V1(_plane.AsSpan(y * _stride, _width), _row);
                return _row;
            case Mode.H1V2Fancy:
            {
                var (nearAt, farAt, odd) = Rows(y);
                var near = _plane.AsSpan(nearAt, _width);
                var far = _plane.AsSpan(farAt, _width);
                int bias = odd ? 2 : 1;
                for (int x = 0; x < _width; x++)
                    _row[x] = (byte)((near[x] * 3 + far[x] + bias) >> 2);
                return _row;
            }
            case Mode.H2V2Fancy:
            {
                var (nearAt, farAt, _) = Rows(y);
                H2V2(_plane.AsSpan(nearAt, _width), _plane.AsSpan(farAt, _width), _row);
                return _row;
            }
            default:
            {
                var src = _plane.AsSpan(Math.Min(y / _vExpand, _height - 1) * _stride, _width);
                int outWidth = _width * _hExpand;
                for (int x = 0; x < outWidth; x++)
                    _row[x] = src[x / _hExpand];
                return _row;
            }
        }
    }

    /// <summary>Nearest input row and next-nearest (above for even output rows, below for odd), edges replicated.</summary>
    private (int NearAt, int FarAt, bool Odd) Rows(int y)
    {
        int iy = Math.Min(y >> 1, _height - 1);
        bool odd = (y & 1) != 0;
        int fy = Math.Clamp(odd ? iy + 1 : iy - 1, 0, _height - 1);
        return (iy * _stride, fy * _stride, odd);
    }

    private static void H2V1(ReadOnlySpan<byte> s, Span<byte> o)
    {
        int n = s.Length;
        o[0] = s[0];
        o[1] = (byte)((s[0] * 3 + s[1] + 2) >> 2);
        for (int x = 1; x < n - 1; x++)
        {
            int v = s[x] * 3;
            o[2 * x] = (byte)((v + s[x - 1] + 1) >> 2);
            o[2 * x + 1] = (byte)((v + s[x + 1] + 2) >> 2);
        }
        o[2 * n - 2] = (byte)((s[n - 1] * 3 + s[n - 2] + 1) >> 2);
        o[2 * n - 1] = s[n - 1];
    }

    private static void H2V2(ReadOnlySpan<byte> near, ReadOnlySpan<byte> far, Span<byte> o)
    {
        int n = near.Length;
        int last = near[0] * 3 + far[0];
        int cur = last;
        int next = near[1] * 3 + far[1];
        o[0] = (byte)((cur * 4 + 8) >> 4);
        o[1] = (byte)((cur * 3 + next + 7) >> 4);
        for (int x = 1; x < n - 1; x++)
        {
            last = cur;
            cur = next;
            next = near[x + 1] * 3 + far[x + 1];
            o[2 * x] = (byte)((cur * 3 + last + 8) >> 4);
            o[2 * x + 1] = (byte)((cur * 3 + next + 7) >> 4);
        }
        last = cur;
        cur = next;
        o[2 * n - 2] = (byte)((cur * 3 + last + 8) >> 4);
        o[2 * n - 1] = (byte)((cur * 4 + 7) >> 4);
    }
}
