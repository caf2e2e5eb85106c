using VlmTune.Data.Tests.Support;

namespace VlmTune.Data.Tests;

public class SmolVlmProcessorTests
{
    [Fact]
    public void Loads_the_tiny_model_directory()
    {
        var p = TestData.Tiny;
        Assert.Equal(512, p.MaxLength);
        Assert.Equal(2, p.PadId);                       // <|im_end|>
        Assert.Equal(32, p.ImageConfig.MaxImageSize);
        Assert.Equal(64, p.ImageConfig.LongestEdge);
        Assert.Equal(4, p.Expander.ImageSeqLen);
        Assert.Equal(4038, p.TokenIds.Image);
        Assert.Equal(4037, p.TokenIds.FakeAroundImage);
        Assert.Equal(4000, p.TokenIds.GlobalImage);
        Assert.Equal(4127, p.TokenIds.EndOfUtterance);
        Assert.Equal(36, p.TokenIds.RowCol.Count);
        Assert.Equal(4001, p.TokenIds.RowCol[(1, 1)]);
        Assert.Equal(4036, p.TokenIds.RowCol[(6, 6)]);
        Assert.True(p.TokenIds.IsImageRelated(4020));
        Assert.False(p.TokenIds.IsImageRelated(4127));
        Assert.Equal("<end_of_utterance>", p.EndOfTurn);
    }

    [Fact]
    public void Max_length_can_be_overridden()
    {
        Assert.Equal(100, SmolVlmProcessor.FromDirectory(TestData.TinyModelDir, maxLength: 100).MaxLength);
        Assert.Equal(77, TestData.Tiny.WithMaxLength(77).MaxLength);
    }

    [Fact]
    public void Missing_files_name_the_file()
    {
        using var tmp = new TempDataset();
        var e = Assert.Throws<ModelDirectoryException>(() => SmolVlmProcessor.FromDirectory(tmp.Dir));
        Assert.Contains("tokenizer.json", e.Message);
        File.Copy(Path.Combine(TestData.TinyModelDir, "tokenizer.json"), Path.Combine(tmp.Dir, "tokenizer.json"));
        File.Copy(Path.Combine(TestData.TinyModelDir, "chat_template.json"), Path.Combine(tmp.Dir, "chat_template.json"));
        e = Assert.Throws<ModelDirectoryException>(() => SmolVlmProcessor.FromDirectory(tmp.Dir));
        Assert.Contains("preprocessor_config.json", e.Message);
        Assert.Throws<ModelDirectoryException>(() => SmolVlmProcessor.FromDirectory(Path.Combine(tmp.Dir, "nope")));
    }

    [Fact]
    public void Unknown_pad_token_is_an_error()
    {
        using var tmp = new TempDataset();
        foreach (var f in Directory.GetFiles(TestData.TinyModelDir)) File.Copy(f, Path.Combine(tmp.Dir, Path.GetFileName(f)));
        File.WriteAllText(Path.Combine(tmp.Dir, "tokenizer_config.json"), "{\"pad_token\": \"<nope>\"}");
        var e = Assert.Throws<ModelDirectoryException>(() => SmolVlmProcessor.FromDirectory(tmp.Dir));
        Assert.Contains("tokenizer_config.json", e.Message);
        Assert.Contains("<nope>", e.Message);
    }
}
