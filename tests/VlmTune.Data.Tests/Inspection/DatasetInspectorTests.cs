using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Inspection;
using VlmTune.Data.Tests.Support;

namespace VlmTune.Data.Tests.Inspection;

public class DatasetInspectorTests
{
    [Fact]
    public void Fixture_report_has_a_budget_and_a_clean_label_audit()
    {
        var r = DatasetInspector.Inspect(Path.Combine(TestData.FixtureDir, "sft.jsonl"), DatasetKind.Sft, TestData.Tiny);
        Assert.Equal((4, 4, 0), (r.Records, r.Valid, r.ErrorCount));
        Assert.Equal(0, r.SupervisedImageTokens);
        Assert.True(r.SupervisedShare > 0 && r.SupervisedShare < 0.5);
        Assert.True(r.ImageShare > 0.3);
        Assert.Equal(0, r.ImageTokens.Min);                 // the text-only record
        Assert.True(r.TotalTokens.Max <= 512);
    }

    [Fact]
    public void Every_bad_record_is_listed()
    {
        using var tmp = new TempDataset();
        string good = """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}""";
        string path = tmp.WriteLines("t.jsonl", good, "{bad", good, """{"messages": [{"role": "user", "content": "<image>x"}, {"role": "assistant", "content": "y"}], "images": ["nope.png"]}""");
        var r = DatasetInspector.Inspect(path, DatasetKind.Sft, TestData.Tiny);
        Assert.Equal((4, 2, 2), (r.Records, r.Valid, r.ErrorCount));
        Assert.Equal([2, 4], r.Errors.Select(e => e.Record.Line));
    }

    [Fact]
    public void Dropped_and_shrunk_are_counted()
    {
        var p = TestData.Tiny.WithMaxLength(60);
        string file = Path.Combine(TestData.FixtureDir, "sft.jsonl");
        var dropped = DatasetInspector.Inspect(file, DatasetKind.Sft, p, encodingOptions: new EncodingOptions { Overflow = OverflowPolicy.Drop });
        Assert.True(dropped.Dropped > 0);
        Assert.Equal(dropped.Records, dropped.Valid + dropped.Dropped);
        var shrunk = DatasetInspector.Inspect(file, DatasetKind.Sft, p, encodingOptions: new EncodingOptions { Overflow = OverflowPolicy.ShrinkImages });
        Assert.True(shrunk.Shrunk > 0);
    }

    [Fact]
    public void Dpo_report()
    {
        var r = DatasetInspector.Inspect(Path.Combine(TestData.FixtureDir, "dpo.jsonl"), DatasetKind.Dpo, TestData.Tiny);
        Assert.Equal((2, 2, 0), (r.Records, r.Valid, r.ErrorCount));
        Assert.Equal(0, r.SupervisedImageTokens);
    }
}
