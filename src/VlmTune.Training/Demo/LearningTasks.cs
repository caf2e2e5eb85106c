using System.Text.Json;
using VlmTune.Images;
using VlmTune.Images.Png;

namespace VlmTune.Training.Demo;

/// <summary>
/// Synthetic image+text tasks of the learning benchmark (bench/learn.sh) and the CI learning check (LearningTests):
/// each differs from the demo's shapes task in its attributes, number of values, image size, answer phrasing and record
/// layout, so a recipe tuned on the demo is tested on work it was not tuned for. Every task is generated
/// deterministically from a seed; train and held-out records come from independent streams. Each writes images/*.png,
/// sft-train.jsonl, sft-eval.jsonl, dpo-train.jsonl and dpo-eval.jsonl (the formats of datasets.md) plus
/// answers-eval.jsonl: one line per held-out question with the question's turn index and the reference answer, for
/// scoring.
/// <para>DPO pairs prefer the reference answer over the same phrasing with a wrong value (a near miss, the hard
/// kind), so they agree with what SFT taught.</para>
/// </summary>
public static class LearningTasks
{
    public static readonly IReadOnlyList<string> Names = ["quadrant", "grid", "bars", "sizes"];

    /// <summary>Writes task <paramref name="name"/> under <paramref name="dir"/>; returns a one-line description.</summary>
    public static string Write(string name, string dir, ulong seed, int train, int eval, int pairs)
    {
        ITask task = name switch
        {
            "quadrant" => new Quadrant(),
            "grid" => new Grid(),
            "bars" => new Bars(),
            "sizes" => new Sizes(),
            _ => throw new ArgumentException($"unknown task '{name}' (tasks: {string.Join(", ", Names)})"),
        };
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        var trainRecords = Records(task, "train", new SplitMix64(seed ^ 0x4C5452414E000000UL ^ Hash(name)), train, dir);
        var evalRecords = Records(task, "eval", new SplitMix64(seed ^ 0x4C4556414C000000UL ^ Hash(name)), eval, dir);
        WriteLines(Path.Combine(dir, "sft-train.jsonl"), trainRecords.Select(r => Sft(task, r)));
        WriteLines(Path.Combine(dir, "sft-eval.jsonl"), evalRecords.Select(r => Sft(task, r)));
        WriteLines(Path.Combine(dir, "dpo-train.jsonl"), trainRecords.Take(pairs).Select(Dpo));
        WriteLines(Path.Combine(dir, "dpo-eval.jsonl"), evalRecords.Select(Dpo));
        WriteLines(Path.Combine(dir, "answers-eval.jsonl"), evalRecords.SelectMany(r => r.Turns.Select((t, i) => Json(w =>
        {
            w.WriteString("id", r.Id);
            w.WriteNumber("turn", i);
            w.WriteString("attribute", t.Attribute);
            w.WriteString("question", t.Question);
            w.WriteString("answer", t.Answer);
        }))));
        return $"{name}: {task.Description} — {train} train, {eval} held-out, {Math.Min(pairs, train)} pairs, {task.Size} px, {task.Layout}";
    }

    // ---- records ----

    sealed record Turn(string Attribute, string Question, string Answer, string Rejected);
    sealed record Record(string Id, string Image, IReadOnlyList<Turn> Turns);

    interface ITask
    {
        int Size { get; }
        string Description { get; }
        string Layout { get; }                 // "messages", "multi-turn" or "prompt/completion"
        (RgbImage Image, IReadOnlyList<Turn> Turns) Draw(SplitMix64 rng, int index);
    }

    static List<Record> Records(ITask task, string split, SplitMix64 rng, int count, string dir)
    {
        var list = new List<Record>(count);
        for (int i = 0; i < count; i++)
        {
            var (image, turns) = task.Draw(rng, i);
            string id = $"{split}-{i:D4}", path = $"images/{id}.png";
            File.WriteAllBytes(Path.Combine(dir, path), PngEncoder.Encode(image));
            list.Add(new Record(id, path, turns));
        }
        return list;
    }

    static string Sft(ITask task, Record r) => Json(w =>
    {
        w.WriteString("id", r.Id);
        if (task.Layout == "prompt/completion")
        {
            w.WriteString("prompt", "<image>" + r.Turns[0].Question);
            w.WriteString("completion", r.Turns[0].Answer);
        }
        else
        {
            w.WriteStartArray("messages");
            for (int i = 0; i < r.Turns.Count; i++)
            {
                Message(w, "user", i == 0, r.Turns[i].Question);
                Message(w, "assistant", false, r.Turns[i].Answer);
            }
            w.WriteEndArray();
        }
        w.WriteStartArray("images");
        w.WriteStringValue(r.Image);
        w.WriteEndArray();
    });

    /// <summary>
    /// A pair on the record's last question — the one eval scores — with the earlier turns as the conversational prompt:
    /// chosen = the reference answer, rejected = a near miss.
    /// </summary>
    static string Dpo(Record r) => Json(w =>
    {
        var last = r.Turns[^1];
        w.WriteString("id", r.Id);
        w.WriteStartArray("prompt");
        for (int i = 0; i < r.Turns.Count - 1; i++)
        {
            Message(w, "user", i == 0, r.Turns[i].Question);
            Message(w, "assistant", false, r.Turns[i].Answer);
        }
        Message(w, "user", r.Turns.Count == 1, last.Question);
        w.WriteEndArray();
        w.WriteStartArray("chosen");
        Message(w, "assistant", false, last.Answer);
        w.WriteEndArray();
        w.WriteStartArray("rejected");
        Message(w, "assistant", false, last.Rejected);
        w.WriteEndArray();
        w.WriteStartArray("images");
        w.WriteStringValue(r.Image);
        w.WriteEndArray();
    });

    static void Message(Utf8JsonWriter w, string role, bool image, string text)
    {
        w.WriteStartObject();
        w.WriteString("role", role);
        w.WriteStartArray("content");
        if (image)
        {
            w.WriteStartObject();
            w.WriteString("type", "image");
            w.WriteEndObject();
        }
        w.WriteStartObject();
        w.WriteString("type", "text");
        w.WriteString("text", text);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    static string Json(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    static void WriteLines(string path, IEnumerable<string> lines)
    {
        string tmp = path + ".tmp";
        File.WriteAllLines(tmp, lines);
        File.Move(tmp, path, overwrite: true);
    }

    static ulong Hash(string s)
    {
        ulong h = 14695981039346656037UL;                       // FNV-1a
        foreach (char c in s) h = (h ^ c) * 1099511628211UL;
        return h;
    }

    // ---- the tasks ----

    static readonly (string Name, byte R, byte G, byte B)[] Palette =
    [
        ("orange", 240, 130, 20), ("purple", 130, 40, 170), ("cyan", 20, 190, 210), ("grey", 120, 120, 120),
        ("red", 210, 30, 30), ("green", 40, 150, 50), ("blue", 30, 70, 220), ("yellow", 235, 205, 25),
    ];

    /// <summary>The issue's family: one disc, colour (4) × quadrant (4), 64 px, sentence answers, one question per record.</summary>
    sealed class Quadrant : ITask
    {
        static readonly string[] Quadrants = ["top left", "top right", "bottom left", "bottom right"];
        public int Size => 64;
        public string Description => "one disc; colour (4 values) and quadrant (4 values); sentence answers";
        public string Layout => "messages";

        public (RgbImage, IReadOnlyList<Turn>) Draw(SplitMix64 rng, int index)
        {
            int colour = rng.Below(4), quadrant = rng.Below(4);
            var image = Canvas(Size, 250, 250, 250);
            int r = 8 + rng.Below(5), cell = Size / 2;
            int cx = (quadrant % 2) * cell + r + 2 + rng.Below(cell - 2 * r - 3);
            int cy = (quadrant / 2) * cell + r + 2 + rng.Below(cell - 2 * r - 3);
            Fill(image, Palette[colour], (x, y) => Sq(x - cx) + Sq(y - cy) <= r * r);
            Turn turn = index % 2 == 0
                ? Ask("colour", "What colour is the disc?", v => $"The disc is {v}.", Palette[colour].Name, Palette.Take(4).Select(p => p.Name), rng)
                : Ask("position", "Where is the disc?", v => $"It is in the {v}.", Quadrants[quadrant], Quadrants, rng);
            return (image, [turn]);
        }
    }

    /// <summary>One shape in a 3×3 grid: kind (4) × cell (9), 48 px, bare answers, several question phrasings.</summary>
    sealed class Grid : ITask
    {
        static readonly string[] Kinds = ["circle", "square", "triangle", "cross"];
        static readonly string[] Cells = ["top left", "top middle", "top right", "middle left", "centre", "middle right", "bottom left", "bottom middle", "bottom right"];
        static readonly string[] KindQuestions = ["Which shape is this?", "Name the shape.", "What shape do you see?"];
        static readonly string[] CellQuestions = ["In which cell is the shape?", "Where is the shape?", "Which part of the grid holds the shape?"];
        public int Size => 48;
        public string Description => "one black shape on a 3×3 grid; kind (4 values) and cell (9 values); bare answers, 3 phrasings each";
        public string Layout => "messages";

        public (RgbImage, IReadOnlyList<Turn>) Draw(SplitMix64 rng, int index)
        {
            int kind = rng.Below(4), cell = rng.Below(9);
            var image = Canvas(Size, 255, 255, 255);
            int step = Size / 3, h = 5 + rng.Below(2);
            int cx = (cell % 3) * step + step / 2, cy = (cell / 3) * step + step / 2;
            Fill(image, ("black", 20, 20, 20), (x, y) =>
            {
                int dx = x - cx, dy = y - cy;
                return kind switch
                {
                    0 => dx * dx + dy * dy <= h * h,
                    1 => Math.Abs(dx) <= h && Math.Abs(dy) <= h,
                    2 => Math.Abs(dy) <= h && 2 * Math.Abs(dx) <= dy + h,
                    _ => (Math.Abs(dx) <= 1 && Math.Abs(dy) <= h) || (Math.Abs(dy) <= 1 && Math.Abs(dx) <= h),
                };
            });
            // Grid lines, so "cell" is something the image shows.
            Fill(image, ("grid", 200, 200, 200), (x, y) => x % step == 0 || y % step == 0);
            Turn turn = index % 2 == 0
                ? Ask("kind", KindQuestions[rng.Below(3)], v => v, Kinds[kind], Kinds, rng)
                : Ask("cell", CellQuestions[rng.Below(3)], v => v, Cells[cell], Cells, rng);
            return (image, [turn]);
        }
    }

    /// <summary>Vertical bars: count (5, answered in words) then colour (6) in a two-turn conversation, 80 px.</summary>
    sealed class Bars : ITask
    {
        static readonly string[] Counts = ["one", "two", "three", "four", "five"];
        public int Size => 80;
        public string Description => "vertical bars; count (5 values, in words) then colour (6 values); both assistant turns supervised";
        public string Layout => "multi-turn";

        public (RgbImage, IReadOnlyList<Turn>) Draw(SplitMix64 rng, int index)
        {
            int n = 1 + rng.Below(5), colour = 2 + rng.Below(6);
            var image = Canvas(Size, 245, 245, 235);
            int slot = Size / 5;
            var slots = Enumerable.Range(0, 5).ToList();
            var used = new bool[5];
            for (int k = 0; k < n; k++)
            {
                int pick = rng.Below(slots.Count);
                used[slots[pick]] = true;
                slots.RemoveAt(pick);
            }
            var tops = Enumerable.Range(0, 5).Select(_ => 10 + rng.Below(40)).ToArray();
            Fill(image, Palette[colour], (x, y) =>
            {
                int s = x / slot, inSlot = x % slot;
                return s < 5 && used[s] && inSlot >= 4 && inSlot < slot - 4 && y >= tops[s] && y < Size - 6;
            });
            var names = Palette.Skip(2).Take(6).Select(p => p.Name).ToArray();
            return (image,
            [
                Ask("count", "How many bars are there?", v => $"I count {v}.", Counts[n - 1], Counts, rng),
                Ask("colour", "And what colour are they?", v => $"They are {v}.", Palette[colour].Name, names, rng),
            ]);
        }
    }

    /// <summary>Two squares: which side is larger (2) or the larger one's colour (5); 96 px; prompt/completion strings.</summary>
    sealed class Sizes : ITask
    {
        static readonly string[] Sides = ["left", "right"];
        public int Size => 96;
        public string Description => "two squares; which is larger (2 values) or the larger one's colour (5 values); prompt/completion records";
        public string Layout => "prompt/completion";

        public (RgbImage, IReadOnlyList<Turn>) Draw(SplitMix64 rng, int index)
        {
            int larger = rng.Below(2);
            int big = 14 + rng.Below(6), small = 6 + rng.Below(5);
            int cBig = rng.Below(5), cSmall = (cBig + 1 + rng.Below(4)) % 5;
            var image = Canvas(Size, 255, 255, 255);
            int cy = 30 + rng.Below(36);
            for (int side = 0; side < 2; side++)
            {
                int h = side == larger ? big : small, cx = side == 0 ? 24 : 72;
                var colour = Palette[3 + (side == larger ? cBig : cSmall)];
                Fill(image, colour, (x, y) => Math.Abs(x - cx) <= h && Math.Abs(y - cy) <= h);
            }
            var names = Palette.Skip(3).Take(5).Select(p => p.Name).ToArray();
            Turn turn = index % 2 == 0
                ? Ask("side", "Which square is larger, left or right?", v => $"The {v} one.", Sides[larger], Sides, rng)
                : Ask("colour", "What colour is the larger square?", v => v + ".", Palette[3 + cBig].Name, names, rng);
            return (image, [turn]);
        }
    }

    // ---- drawing and answers ----

    static Turn Ask(string attribute, string question, Func<string, string> phrase, string truth, IEnumerable<string> values, SplitMix64 rng)
    {
        var wrong = values.Where(v => v != truth).ToArray();
        return new Turn(attribute, question, phrase(truth), phrase(wrong[rng.Below(wrong.Length)]));
    }

    static int Sq(int v) => v * v;

    static RgbImage Canvas(int size, byte r, byte g, byte b)
    {
        var image = new RgbImage(size, size);
        for (int i = 0; i < image.Pixels.Length; i += 3) (image.Pixels[i], image.Pixels[i + 1], image.Pixels[i + 2]) = (r, g, b);
        return image;
    }

    static void Fill(RgbImage image, (string Name, byte R, byte G, byte B) c, Func<int, int, bool> inside)
    {
        for (int y = 0; y < image.Height; y++)
        for (int x = 0; x < image.Width; x++)
        {
            if (!inside(x, y)) continue;
            int at = (y * image.Width + x) * 3;
            (image.Pixels[at], image.Pixels[at + 1], image.Pixels[at + 2]) = (c.R, c.G, c.B);
        }
    }
}
