using System.Text;
using System.Text.Json;
using VlmTune.Images.Png;

namespace VlmTune.Training.Demo;

/// <summary>
/// A tiny synthetic image+text task, generated deterministically from a seed, small enough for a tiny model to learn
/// in about 60 steps. Each record is one image of 1–3 non-overlapping filled shapes (circle, square, triangle) of one
/// colour (red, green, blue, yellow) on white, and one question: even records ask "What colour is the shape?"
/// (answer "red."), odd records "How many shapes?" (answer "2."). The answer set is 4 colours + 3 counts.
/// DPO pairs prefer that short exact answer over a verbose wrong one
/// ("I think the shapes are probably blue, but it is hard to say.").
/// <para>
/// Layout: the image is cut into 2×2 cells; each shape gets its own cell (so shapes never touch) and a size of
/// 3/16–5/16 of the image side. Train and eval come from independent seeded streams, so eval does not depend on the
/// train count. Same seed, counts and size ⇒ identical records and identical file bytes.
/// </para>
/// </summary>
public static class ShapesTask
{
    public const string ColourQuestion = "What colour is the shape?";
    public const string CountQuestion = "How many shapes?";
    public const int DefaultImageSize = 64;

    /// <summary>The records only (no files).</summary>
    public static ShapesDataset Generate(ulong seed, int trainCount, int evalCount, int imageSize = DefaultImageSize)
    {
        if (trainCount < 0) throw new ArgumentOutOfRangeException(nameof(trainCount), trainCount, "train count must be ≥ 0");
        if (evalCount < 0) throw new ArgumentOutOfRangeException(nameof(evalCount), evalCount, "eval count must be ≥ 0");
        if (imageSize < 32 || imageSize > 1024 || imageSize % 2 != 0)
            throw new ArgumentOutOfRangeException(nameof(imageSize), imageSize, "image size must be even and in [32, 1024]");
        return new ShapesDataset(imageSize,
            Records("train", new SplitMix64(seed ^ 0x5452414E5F534850UL), trainCount, imageSize),
            Records("eval", new SplitMix64(seed ^ 0x4556414C5F534850UL), evalCount, imageSize));
    }

    /// <summary>
    /// Generates the dataset and writes, under <paramref name="directory"/> (created if missing): images/&lt;id&gt;.png,
    /// sft-train.jsonl, sft-eval.jsonl (TRL messages format) and dpo-train.jsonl, dpo-eval.jsonl (prompt/chosen/rejected),
    /// readable by VlmTune.Data's DatasetReader. Existing files of the same names are replaced.
    /// </summary>
    public static ShapesDataset Write(string directory, ulong seed, int trainCount, int evalCount, int imageSize = DefaultImageSize)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var data = Generate(seed, trainCount, evalCount, imageSize);
        Directory.CreateDirectory(Path.Combine(directory, "images"));
        foreach (var record in data.Train.Concat(data.Eval))
        {
            var image = ShapesRenderer.Render(imageSize, record.Colour, record.Shapes);
            File.WriteAllBytes(Path.Combine(directory, record.ImagePath), PngEncoder.Encode(image));
        }
        WriteJsonl(Path.Combine(directory, "sft-train.jsonl"), data.Train, WriteSft);
        WriteJsonl(Path.Combine(directory, "sft-eval.jsonl"), data.Eval, WriteSft);
        WriteJsonl(Path.Combine(directory, "dpo-train.jsonl"), data.Train, WriteDpo);
        WriteJsonl(Path.Combine(directory, "dpo-eval.jsonl"), data.Eval, WriteDpo);
        return data;
    }

    /// <summary>
    /// The exact-match rule: true when <paramref name="answer"/> equals <paramref name="truth"/> after normalising both
    /// (trim, lower-case, runs of white space → one space, trailing periods removed). "Red. " matches "red"; "two"
    /// does not match "2"; a verbose answer that contains the truth does not match.
    /// </summary>
    public static bool Score(string answer, string truth)
    {
        ArgumentNullException.ThrowIfNull(answer);
        ArgumentNullException.ThrowIfNull(truth);
        return Normalise(answer) == Normalise(truth);
    }

    /// <summary>Fraction of <paramref name="answers"/> that <see cref="Score"/> against the records' truths (0 for none).</summary>
    public static double Accuracy(IReadOnlyList<ShapesRecord> records, IReadOnlyList<string> answers)
    {
        if (records.Count != answers.Count)
            throw new ArgumentException($"{answers.Count} answers for {records.Count} records", nameof(answers));
        if (records.Count == 0) return 0;
        int right = 0;
        for (int i = 0; i < records.Count; i++) if (Score(answers[i], records[i].Truth)) right++;
        return (double)right / records.Count;
    }

    /// <summary>The normal form used by <see cref="Score"/>.</summary>
    public static string Normalise(string text)
    {
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text.Trim())
        {
            if (char.IsWhiteSpace(c)) { space = true; continue; }
            if (space) sb.Append(' ');
            space = false;
            sb.Append(char.ToLowerInvariant(c));
        }
        while (sb.Length > 0 && sb[^1] == '.') sb.Length--;
        return sb.ToString().TrimEnd();
    }

    static IReadOnlyList<ShapesRecord> Records(string split, SplitMix64 rng, int count, int size)
    {
        var records = new List<ShapesRecord>(count);
        for (int i = 0; i < count; i++)
        {
            var colour = (ShapeColour)rng.Below(4);
            int n = 1 + rng.Below(3);
            var shapes = PlaceShapes(rng, n, size);
            string id = $"{split}-{i:D4}";
            var question = i % 2 == 0 ? ShapesQuestion.Colour : ShapesQuestion.Count;
            string truth, rejected;
            if (question == ShapesQuestion.Colour)
            {
                truth = colour.ToString().ToLowerInvariant();
                var wrong = (ShapeColour)(((int)colour + 1 + rng.Below(3)) % 4);
                rejected = $"I think the shapes are probably {wrong.ToString().ToLowerInvariant()}, but it is hard to say.";
            }
            else
            {
                truth = n.ToString(System.Globalization.CultureInfo.InvariantCulture);
                int wrong = (n + rng.Below(2)) % 3 + 1;                 // one of the two other counts
                rejected = $"I think there are probably {wrong} shapes, but it is hard to say.";
            }
            records.Add(new ShapesRecord(id, $"images/{id}.png", question,
                question == ShapesQuestion.Colour ? ColourQuestion : CountQuestion, truth + ".", rejected, truth, colour, shapes));
        }
        return records;
    }

    // One shape per distinct 2×2 cell; size in [3/16, 5/16] of the side, centre kept 1 px inside the cell margin.
    static IReadOnlyList<ShapeInstance> PlaceShapes(SplitMix64 rng, int n, int size)
    {
        int cell = size / 2;
        int minSize = size * 3 / 16, maxSize = size * 5 / 16;
        var cells = new List<int> { 0, 1, 2, 3 };
        var shapes = new List<ShapeInstance>(n);
        for (int k = 0; k < n; k++)
        {
            int pick = rng.Below(cells.Count);
            int c = cells[pick];
            cells.RemoveAt(pick);
            var kind = (ShapeKind)rng.Below(3);
            int s = minSize + rng.Below(maxSize - minSize + 1);
            int lo = s / 2 + 2, hi = cell - s / 2 - 2;                   // centre range inside the cell
            int cx = (c % 2) * cell + lo + rng.Below(hi - lo + 1);
            int cy = (c / 2) * cell + lo + rng.Below(hi - lo + 1);
            shapes.Add(new ShapeInstance(kind, cx, cy, s));
        }
        return shapes;
    }

    static void WriteJsonl(string path, IReadOnlyList<ShapesRecord> records, Action<Utf8JsonWriter, ShapesRecord> write)
    {
        using var stream = new MemoryStream();
        foreach (var record in records)
        {
            using (var writer = new Utf8JsonWriter(stream))
                write(writer, record);
            stream.WriteByte((byte)'\n');
        }
        File.WriteAllBytes(path, stream.ToArray());
    }

    static void WriteSft(Utf8JsonWriter w, ShapesRecord r)
    {
        w.WriteStartObject();
        w.WriteString("id", r.Id);
        w.WriteStartArray("messages");
        WriteUser(w, r);
        WriteAssistant(w, r.Answer);
        w.WriteEndArray();
        WriteImages(w, r);
        w.WriteEndObject();
    }

    static void WriteDpo(Utf8JsonWriter w, ShapesRecord r)
    {
        w.WriteStartObject();
        w.WriteString("id", r.Id);
        w.WriteStartArray("prompt");
        WriteUser(w, r);
        w.WriteEndArray();
        w.WriteStartArray("chosen");
        WriteAssistant(w, r.Answer);
        w.WriteEndArray();
        w.WriteStartArray("rejected");
        WriteAssistant(w, r.RejectedAnswer);
        w.WriteEndArray();
        WriteImages(w, r);
        w.WriteEndObject();
    }

    static void WriteUser(Utf8JsonWriter w, ShapesRecord r)
    {
        w.WriteStartObject();
        w.WriteString("role", "user");
        w.WriteStartArray("content");
        w.WriteStartObject();
        w.WriteString("type", "image");
        w.WriteEndObject();
        WriteText(w, r.QuestionText);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteAssistant(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("role", "assistant");
        w.WriteStartArray("content");
        WriteText(w, text);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static void WriteText(Utf8JsonWriter w, string text)
    {
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
    }

    static void WriteImages(Utf8JsonWriter w, ShapesRecord r)
    {
        w.WriteStartArray("images");
        w.WriteStringValue(r.ImagePath);
        w.WriteEndArray();
    }
}
