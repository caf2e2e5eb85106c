using System.Text;

namespace VlmTune.Processing;

/// <summary>
/// Replaces each <c>&lt;image&gt;</c> placeholder of a prompt with the tile token string of spec §5.2
/// (transformers processing_smolvlm.py <c>_prompt_split_image</c> / <c>_prompt_single_image</c>), with
/// F = &lt;fake_token_around_image&gt;, I = &lt;image&gt;, n = image_seq_len:
/// <code>
/// split (rows, cols &gt; 0):  for r: { for c: F &lt;row_r_col_c&gt; I×n } "\n"   then  "\n" F &lt;global-img&gt; I×n F
/// single (rows = cols = 0): F &lt;global-img&gt; I×n F
/// </code>
/// </summary>
public sealed class ImagePromptExpander
{
    public const string ImageToken = "<image>";
    public const string FakeToken = "<fake_token_around_image>";
    public const string GlobalImageToken = "<global-img>";

    public int ImageSeqLen { get; }

    /// <summary>An expander using the config's image_seq_len (from processor_config.json).</summary>
    public ImagePromptExpander(ImageProcessorConfig config) : this((config ?? throw new ArgumentNullException(nameof(config))).ImageSeqLen) { }

    public ImagePromptExpander(int imageSeqLen)
    {
        if (imageSeqLen <= 0) throw new ArgumentOutOfRangeException(nameof(imageSeqLen), $"must be positive, got {imageSeqLen}");
        ImageSeqLen = imageSeqLen;
    }

    /// <summary>Number of &lt;image&gt; placeholders in <paramref name="prompt"/> (non-overlapping, ordinal).</summary>
    public static int CountPlaceholders(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        int count = 0;
        for (int at = prompt.IndexOf(ImageToken, StringComparison.Ordinal); at >= 0;
             at = prompt.IndexOf(ImageToken, at + ImageToken.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    /// <summary>&lt;image&gt; tokens one image contributes: (rows·cols + 1)·n. Equals its image-feature rows.</summary>
    public int ImageTokenCount(int rows, int cols)
    {
        CheckGrid(rows, cols);
        return (rows * cols + 1) * ImageSeqLen;
    }

    /// <summary>
    /// Tokens of one expanded image with the SmolVLM-256M/500M tokenizer, counted structurally: every special
    /// token is 1, each "\n" is 1, and the "\n\n" between the last tile row and the global block is a single
    /// token (spec §5.2). = rows·cols·(n + 2) + rows + n + 3 when split, n + 3 when not (1127 for 4×4, n = 64).
    /// </summary>
    public int StructuralTokenCount(int rows, int cols)
    {
        CheckGrid(rows, cols);
        int global = 1 + 1 + ImageSeqLen + 1;                      // F <global-img> I×n F
        if (rows == 0) return global;
        int tiles = rows * cols * (1 + 1 + ImageSeqLen);           // F <row_r_col_c> I×n
        return tiles + (rows - 1) + 1 + global;                    // row "\n"s; the last one merges into "\n\n"
    }

    /// <summary>The expansion of one image.</summary>
    public string ExpandImage(int rows, int cols)
    {
        CheckGrid(rows, cols);
        var sb = new StringBuilder();
        AppendImage(sb, rows, cols);
        return sb.ToString();
    }

    /// <summary>Replaces the i-th &lt;image&gt; with the expansion of image i (grid from <paramref name="images"/>).</summary>
    public string Expand(string prompt, ProcessedImages images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return Expand(prompt, images.ImageRows, images.ImageCols);
    }

    /// <summary>Replaces the i-th &lt;image&gt; with the expansion of (rows[i], cols[i]).</summary>
    public string Expand(string prompt, IReadOnlyList<int> rows, IReadOnlyList<int> cols)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(cols);
        if (rows.Count != cols.Count)
            throw new ArgumentException($"{rows.Count} row counts but {cols.Count} column counts", nameof(cols));
        int placeholders = CountPlaceholders(prompt);
        if (placeholders != rows.Count) throw new ImageTokenMismatchException(placeholders, rows.Count);

        var sb = new StringBuilder(prompt.Length + rows.Count * (ImageSeqLen * ImageToken.Length + 64));
        int start = 0;
        for (int i = 0; i < rows.Count; i++)
        {
            int at = prompt.IndexOf(ImageToken, start, StringComparison.Ordinal);
            sb.Append(prompt, start, at - start);
            CheckGrid(rows[i], cols[i]);
            AppendImage(sb, rows[i], cols[i]);
            start = at + ImageToken.Length;
        }
        sb.Append(prompt, start, prompt.Length - start);
        return sb.ToString();
    }

    void AppendImage(StringBuilder sb, int rows, int cols)
    {
        for (int r = 1; r <= rows; r++)
        {
            for (int c = 1; c <= cols; c++)
            {
                sb.Append(FakeToken).Append("<row_").Append(r).Append("_col_").Append(c).Append('>');
                AppendImageTokens(sb);
            }
            sb.Append('\n');
        }
        if (rows > 0) sb.Append('\n');
        sb.Append(FakeToken).Append(GlobalImageToken);
        AppendImageTokens(sb);
        sb.Append(FakeToken);
    }

    void AppendImageTokens(StringBuilder sb)
    {
        for (int i = 0; i < ImageSeqLen; i++) sb.Append(ImageToken);
    }

    static void CheckGrid(int rows, int cols)
    {
        if (rows < 0 || cols < 0 || (rows == 0) != (cols == 0))
            throw new ArgumentOutOfRangeException(nameof(rows), $"rows {rows} and cols {cols} must both be 0 (single image) or both positive");
    }
}
