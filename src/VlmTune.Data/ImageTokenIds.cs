using VlmTune.Tokenizers;

namespace VlmTune.Data;

/// <summary>
/// The ids of the image-related special tokens of a SmolVLM tokenizer (spec §5.2): every one of them is −100 in the
/// labels, always. <c>&lt;end_of_utterance&gt;</c> is listed for the assistant span logic but is NOT image-related.
/// </summary>
public sealed class ImageTokenIds
{
    private readonly HashSet<int> _imageRelated;

    public int Image { get; }
    public int FakeAroundImage { get; }
    public int GlobalImage { get; }
    /// <summary>Every <c>&lt;row_r_col_c&gt;</c> the tokenizer has, keyed by (r, c).</summary>
    public IReadOnlyDictionary<(int Row, int Col), int> RowCol { get; }
    public int EndOfUtterance { get; }

    private ImageTokenIds(int image, int fake, int global, Dictionary<(int, int), int> rowCol, int endOfUtterance)
    {
        Image = image;
        FakeAroundImage = fake;
        GlobalImage = global;
        RowCol = rowCol;
        EndOfUtterance = endOfUtterance;
        _imageRelated = [image, fake, global, .. rowCol.Values];
    }

    /// <summary>True for &lt;image&gt;, &lt;fake_token_around_image&gt;, &lt;global-img&gt; and every &lt;row_r_col_c&gt;.</summary>
    public bool IsImageRelated(int id) => _imageRelated.Contains(id);

    /// <summary>Looks the tokens up; <paramref name="source"/> names the tokenizer file in errors.</summary>
    /// <exception cref="ModelDirectoryException">A required token is missing from the tokenizer.</exception>
    public static ImageTokenIds FromTokenizer(Tokenizer tokenizer, string source)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int Require(string token) => tokenizer.TokenToId(token) ?? throw new ModelDirectoryException(source,
            $"the tokenizer has no \"{token}\" token; VlmTune needs the SmolVLM / Idefics3 image tokens");
        var rowCol = new Dictionary<(int, int), int>();
        // The SmolVLM processors use r, c in 1..6 (rows/cols are capped by max_image_size); scan until a gap.
        for (int r = 1; r <= 64; r++)
        {
            int? first = tokenizer.TokenToId($"<row_{r}_col_1>");
            if (first is null) break;
            for (int c = 1; c <= 64; c++)
            {
                int? id = tokenizer.TokenToId($"<row_{r}_col_{c}>");
                if (id is null) break;
                rowCol[(r, c)] = id.Value;
            }
        }
        return new ImageTokenIds(Require("<image>"), Require("<fake_token_around_image>"), Require("<global-img>"),
            rowCol, Require("<end_of_utterance>"));
    }
}
