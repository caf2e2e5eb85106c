using System.Buffers.Binary;
using System.Text.Json;
using VlmTune.Cli.TensorBoard;
using VlmTune.Training;

namespace VlmTune.Cli.Tests.TensorBoard;

/// <summary>
/// The event file writer against an independent reader: tests/fixtures/tensorboard/events.out.tfevents.fixture is
/// what <see cref="Fixture"/> writes, and expected_decode.json is what protobufjs (TensorBoard's event.proto /
/// summary.proto field numbers) and @aws-crypto/crc32c read back from it (tests/reference/tensorboard/read_tfevents.mjs).
/// </summary>
public sealed class TfEventWriterTests
{
    private static readonly (long Step, (string Tag, double Value)[] Scalars)[] Events =
    [
        (1, [("train/loss", 2.5), ("train/learning_rate", 1e-4), ("train/grad_norm", 0.75), ("train/tokens_per_s", 1234.5)]),
        (2, [("train/loss", 2.125), ("train/learning_rate", 5e-5), ("train/grad_norm", 0.5), ("train/tokens_per_s", 1300.25)]),
        (2, [("eval/loss", 2.3), ("eval/token_accuracy", 0.4)]),
        (3, [("train/rewards/chosen", 0.1), ("train/rewards/rejected", -0.2), ("train/rewards/accuracies", 1), ("train/rewards/margins", 0.3)]),
        (1L << 40, [("train/loss", 0.001)]),
    ];

    private static string FixtureDir
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (!File.Exists(Path.Combine(dir!.FullName, "VlmTune.sln"))) dir = dir.Parent;
            return Path.Combine(dir.FullName, "tests", "fixtures", "tensorboard");
        }
    }

    private static string Fixture(string dir)
    {
        double t = 1_760_000_000.25;
        using var w = new TfEventWriter(dir, () => t += 0.5, "events.out.tfevents.fixture");
        foreach (var (step, scalars) in Events) w.Scalars(step, scalars);
        return w.Path;
    }

    [Fact]
    public void Writer_output_is_the_committed_fixture()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vlmtune-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            string written = Fixture(dir);
            string committed = Path.Combine(FixtureDir, "events.out.tfevents.fixture");
            if (Environment.GetEnvironmentVariable("VLMTUNE_WRITE_FIXTURES") == "1") File.Copy(written, committed, overwrite: true);
            Assert.Equal(File.ReadAllBytes(committed), File.ReadAllBytes(written));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void The_independent_reader_saw_every_scalar()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(FixtureDir, "expected_decode.json")));
        var events = doc.RootElement.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(Events.Length + 1, events.Count);
        Assert.Equal(TfEventWriter.FileVersion, events[0].GetProperty("fileVersion").GetString());
        Assert.Equal(1_760_000_000.75, events[0].GetProperty("wallTime").GetDouble());
        for (int i = 0; i < Events.Length; i++)
        {
            var e = events[i + 1];
            Assert.Equal(1_760_000_000.75 + 0.5 * (i + 1), e.GetProperty("wallTime").GetDouble());
            Assert.Equal(Events[i].Step.ToString(System.Globalization.CultureInfo.InvariantCulture), e.GetProperty("step").GetString());
            var values = e.GetProperty("summary").GetProperty("value").EnumerateArray().ToList();
            Assert.Equal(Events[i].Scalars.Select(s => s.Tag), values.Select(v => v.GetProperty("tag").GetString()));
            Assert.Equal(Events[i].Scalars.Select(s => (float)s.Value), values.Select(v => (float)v.GetProperty("simpleValue").GetDouble()));
        }
        Assert.True(doc.RootElement.GetProperty("crcOk").GetBoolean());
    }

    [Fact]
    public void Crc32C_matches_the_standard_check_value() =>
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));   // the CRC-32C catalogue check value

    [Fact]
    public void Run_observer_writes_an_event_file_next_to_metrics()
    {
        string dir = Path.Combine(Path.GetTempPath(), "vlmtune-tb-" + Guid.NewGuid().ToString("N"));
        try
        {
            using (var observer = new RunObserver(dir, every: 1, console: false))
            {
                observer.Step(new StepReport(1, 2, 1.5, 1e-3, 0.25, 100, 10, 1, 0.1));
                observer.Eval(new EvalReport(1, 1.25, 0.5, 40));
                observer.Dpo(1, new Training.Dpo.DpoMetrics(0.1f, -0.1f, 1, 0.2f, -3, -4));
            }
            Assert.True(File.Exists(Path.Combine(dir, "metrics.jsonl")));
            string events = Assert.Single(Directory.GetFiles(dir, "events.out.tfevents.*"));
            var records = ReadRecords(File.ReadAllBytes(events));
            Assert.Equal(4, records.Count);   // file_version + step + eval + dpo
            string text = System.Text.Encoding.UTF8.GetString(records.SelectMany(r => r).ToArray());
            foreach (var tag in new[] { "train/loss", "train/learning_rate", "train/grad_norm", "train/tokens_per_s", "eval/loss", "eval/token_accuracy", "train/rewards/margins" })
                Assert.Contains(tag, text);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>TFRecord framing with both CRCs checked.</summary>
    private static List<byte[]> ReadRecords(byte[] file)
    {
        var records = new List<byte[]>();
        for (int at = 0; at < file.Length;)
        {
            var span = file.AsSpan(at);
            int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(span);
            Assert.Equal(Crc32C.Masked(span[..8]), BinaryPrimitives.ReadUInt32LittleEndian(span[8..]));
            var data = span.Slice(12, length);
            Assert.Equal(Crc32C.Masked(data), BinaryPrimitives.ReadUInt32LittleEndian(span[(12 + length)..]));
            records.Add(data.ToArray());
            at += 16 + length;
        }
        return records;
    }
}
