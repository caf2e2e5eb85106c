using VlmTune.Data.Datasets;
using VlmTune.Images;
using VlmTune.Training.Demo;

namespace VlmTune.Training.Tests.Demo;

public sealed class ShapesTaskTests : IDisposable
{
    readonly string _dir = Path.Combine(Path.GetTempPath(), "vlmtune-shapes-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    static Dictionary<string, byte[]> AllFiles(string dir) =>
        Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(dir, f).Replace('\\', '/'), File.ReadAllBytes);

    [Fact]
    public void Same_seed_gives_identical_bytes_and_another_seed_does_not()
    {
        ShapesTask.Write(Path.Combine(_dir, "a"), seed: 7, trainCount: 12, evalCount: 4);
        ShapesTask.Write(Path.Combine(_dir, "b"), seed: 7, trainCount: 12, evalCount: 4);
        ShapesTask.Write(Path.Combine(_dir, "c"), seed: 8, trainCount: 12, evalCount: 4);
        var a = AllFiles(Path.Combine(_dir, "a"));
        var b = AllFiles(Path.Combine(_dir, "b"));
        var c = AllFiles(Path.Combine(_dir, "c"));
        Assert.Equal(4 + 16, a.Count);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, bytes) in a) Assert.True(bytes.AsSpan().SequenceEqual(b[name]), $"{name} differs between two runs with the same seed");
        Assert.False(a["sft-train.jsonl"].AsSpan().SequenceEqual(c["sft-train.jsonl"]));
    }

    [Fact]
    public void Eval_records_do_not_depend_on_the_train_count()
    {
        var small = ShapesTask.Generate(3, trainCount: 2, evalCount: 5);
        var large = ShapesTask.Generate(3, trainCount: 40, evalCount: 5);
        Assert.Equal(small.Eval, large.Eval, (x, y) => x.Id == y.Id && x.Truth == y.Truth && x.Shapes.SequenceEqual(y.Shapes));
    }

    [Fact]
    public void Images_decode_and_shape_pixels_have_the_record_colour_on_white()
    {
        var data = ShapesTask.Write(_dir, seed: 11, trainCount: 16, evalCount: 4);
        foreach (var record in data.Train.Concat(data.Eval))
        {
            var image = ImageDecoder.Load(Path.Combine(_dir, record.ImagePath));
            Assert.Equal((data.ImageSize, data.ImageSize), (image.Width, image.Height));
            var (r, g, b) = ShapesRenderer.Rgb(record.Colour);
            int coloured = 0;
            for (int y = 0; y < image.Height; y++)
            for (int x = 0; x < image.Width; x++)
            {
                int at = (y * image.Width + x) * 3;
                var px = (image.Pixels[at], image.Pixels[at + 1], image.Pixels[at + 2]);
                bool inside = record.Shapes.Any(s => ShapesRenderer.Contains(s, x, y));
                Assert.True(px == (inside ? (r, g, b) : ((byte)255, (byte)255, (byte)255)),
                    $"{record.Id} pixel ({x},{y}) is {px}, expected {(inside ? "the shape colour" : "white")}");
                if (inside) coloured++;
            }
            foreach (var s in record.Shapes) Assert.True(ShapesRenderer.Contains(s, s.CenterX, s.CenterY), $"{record.Id}: {s} misses its centre");
            Assert.True(coloured >= record.Shapes.Count * 9, $"{record.Id}: only {coloured} coloured pixels");
        }
    }

    [Fact]
    public void Shapes_are_one_to_three_in_distinct_cells_inside_the_image()
    {
        var data = ShapesTask.Generate(5, trainCount: 200, evalCount: 0);
        int half = data.ImageSize / 2;
        foreach (var record in data.Train)
        {
            Assert.InRange(record.Shapes.Count, 1, 3);
            var cells = record.Shapes.Select(s => (s.CenterX / half, s.CenterY / half)).ToList();
            Assert.Equal(cells.Count, cells.Distinct().Count());
            foreach (var s in record.Shapes)
            {
                Assert.InRange(s.CenterX - s.Size / 2, 1, data.ImageSize - 1);
                Assert.InRange(s.CenterX + s.Size / 2, 1, data.ImageSize - 1);
            }
        }
        // Every colour, count and kind occurs.
        Assert.Equal(4, data.Train.Select(r => r.Colour).Distinct().Count());
        Assert.Equal(3, data.Train.Select(r => r.Shapes.Count).Distinct().Count());
        Assert.Equal(3, data.Train.SelectMany(r => r.Shapes).Select(s => s.Kind).Distinct().Count());
    }

    [Fact]
    public void Answers_are_short_exact_and_rejected_answers_are_verbose_and_wrong()
    {
        var data = ShapesTask.Generate(9, trainCount: 100, evalCount: 0);
        var answerSet = data.Train.Select(r => r.Answer).ToHashSet();
        Assert.Subset(new HashSet<string> { "red.", "green.", "blue.", "yellow.", "1.", "2.", "3." }, answerSet);
        foreach (var (record, i) in data.Train.Select((r, i) => (r, i)))
        {
            Assert.Equal(i % 2 == 0 ? ShapesQuestion.Colour : ShapesQuestion.Count, record.Question);
            string expected = record.Question == ShapesQuestion.Colour
                ? record.Colour.ToString().ToLowerInvariant()
                : record.Shapes.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(expected, record.Truth);
            Assert.True(ShapesTask.Score(record.Answer, record.Truth));
            Assert.False(ShapesTask.Score(record.RejectedAnswer, record.Truth));
            Assert.StartsWith("I think ", record.RejectedAnswer);
            Assert.DoesNotContain($" {record.Truth}", record.RejectedAnswer.Replace(",", ""));
        }
    }

    [Theory]
    [InlineData("red.", "red", true)]
    [InlineData("  Red. ", "red", true)]
    [InlineData("RED", "red.", true)]
    [InlineData("2..", "2", true)]
    [InlineData("light  blue", "light blue", true)]
    [InlineData("two.", "2", false)]
    [InlineData("It is red.", "red", false)]
    [InlineData("", "red", false)]
    public void Score_normalises_case_white_space_and_trailing_periods(string answer, string truth, bool expected) =>
        Assert.Equal(expected, ShapesTask.Score(answer, truth));

    [Fact]
    public void Accuracy_is_the_exact_match_fraction()
    {
        var records = ShapesTask.Generate(1, trainCount: 4, evalCount: 0).Train;
        var answers = records.Select((r, i) => i < 3 ? r.Answer.ToUpperInvariant() : "no idea").ToList();
        Assert.Equal(0.75, ShapesTask.Accuracy(records, answers));
    }

    [Fact]
    public void Jsonl_files_load_with_the_dataset_reader()
    {
        var data = ShapesTask.Write(_dir, seed: 21, trainCount: 6, evalCount: 3);
        var log = new BadRecordLog(BadRecordPolicy.Error);
        foreach (var (file, expected) in new[] { ("sft-train.jsonl", data.Train), ("sft-eval.jsonl", data.Eval) })
        {
            using var sft = DatasetReader.OpenSft(Path.Combine(_dir, file));
            var examples = sft.Examples(log).ToList();
            Assert.Equal(expected.Count, examples.Count);
            for (int i = 0; i < examples.Count; i++)
            {
                Assert.Single(examples[i].Images);
                Assert.Equal(2, examples[i].Messages.Count);
                Assert.Equal("assistant", examples[i].Messages[1].Role);
            }
        }
        foreach (var (file, expected) in new[] { ("dpo-train.jsonl", data.Train), ("dpo-eval.jsonl", data.Eval) })
        {
            using var dpo = DatasetReader.OpenPreference(Path.Combine(_dir, file));
            var examples = dpo.Examples(log).ToList();
            Assert.Equal(expected.Count, examples.Count);
            Assert.All(examples, e => Assert.Single(e.Images));
        }
    }

    [Fact]
    public void Bad_arguments_name_the_parameter()
    {
        Assert.Equal("trainCount", Assert.Throws<ArgumentOutOfRangeException>(() => ShapesTask.Generate(1, -1, 0)).ParamName);
        Assert.Equal("imageSize", Assert.Throws<ArgumentOutOfRangeException>(() => ShapesTask.Generate(1, 1, 0, imageSize: 31)).ParamName);
    }
}
