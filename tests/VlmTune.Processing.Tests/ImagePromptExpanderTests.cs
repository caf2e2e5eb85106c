using VlmTune.Processing.Tests.Support;

namespace VlmTune.Processing.Tests;

public class ImagePromptExpanderTests
{
    const string F = ImagePromptExpander.FakeToken;

    [Fact]
    public void Split_image_expansion_has_rows_then_the_global_block()
    {
        var expander = new ImagePromptExpander(2);
        string expected =
            F + "<row_1_col_1><image><image>" + F + "<row_1_col_2><image><image>" + F + "<row_1_col_3><image><image>\n" +
            F + "<row_2_col_1><image><image>" + F + "<row_2_col_2><image><image>" + F + "<row_2_col_3><image><image>\n" +
            "\n" + F + "<global-img><image><image>" + F;
        Assert.Equal(expected, expander.ExpandImage(2, 3));
    }

    [Fact]
    public void Single_image_form_when_rows_and_cols_are_zero()
    {
        Assert.Equal(F + "<global-img><image><image><image>" + F, new ImagePromptExpander(3).ExpandImage(0, 0));
    }

    [Fact]
    public void Each_placeholder_gets_its_own_image()
    {
        var expander = new ImagePromptExpander(1);
        string prompt = "<|im_start|>User:<image>A<image>B?<end_of_utterance>\nAssistant:";
        string result = expander.Expand(prompt, [1, 0], [2, 0]);
        string first = F + "<row_1_col_1><image>" + F + "<row_1_col_2><image>\n\n" + F + "<global-img><image>" + F;
        string second = F + "<global-img><image>" + F;
        Assert.Equal("<|im_start|>User:" + first + "A" + second + "B?<end_of_utterance>\nAssistant:", result);
    }

    [Theory]
    [InlineData(4, 4, 64, 1088, 1127)]
    [InlineData(0, 0, 64, 64, 67)]
    [InlineData(1, 4, 64, 320, 64 * 4 + 4 * 2 + 1 + 67)]
    [InlineData(3, 4, 81, 13 * 81, 12 * 83 + 3 + 84)]
    public void Token_counts_match_a_structural_tokenization(int rows, int cols, int n, int imageTokens, int total)
    {
        var expander = new ImagePromptExpander(n);
        string span = expander.ExpandImage(rows, cols);
        Assert.Equal(imageTokens, expander.ImageTokenCount(rows, cols));
        Assert.Equal(imageTokens, ImagePromptExpander.CountPlaceholders(span));
        Assert.Equal(total, expander.StructuralTokenCount(rows, cols));
        Assert.Equal(total, StructuralTokenizer.Count(span));
    }

    [Theory]
    [InlineData("no image here", 1, 0)]
    [InlineData("<image><image>", 1, 2)]
    [InlineData("<image>", 2, 1)]
    public void Placeholder_and_image_counts_must_agree(string prompt, int images, int placeholders)
    {
        var ex = Assert.Throws<ImageTokenMismatchException>(
            () => new ImagePromptExpander(64).Expand(prompt, new int[images], new int[images]));
        Assert.Equal(placeholders, ex.PlaceholderCount);
        Assert.Equal(images, ex.ImageCount);
        Assert.Contains($"{placeholders} <image>", ex.Message);
        Assert.Contains($"{images} image(s)", ex.Message);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(0, 2)]
    [InlineData(-1, -1)]
    public void Inconsistent_grids_are_rejected(int rows, int cols)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new ImagePromptExpander(64).ExpandImage(rows, cols));
    }
}
