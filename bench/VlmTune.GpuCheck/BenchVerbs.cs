using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Data;
using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm.Init;
using VlmTune.Recipes;
using VlmTune.Tensors;
using VlmTune.Training;
using VlmTune.Training.Demo;

namespace VlmTune.GpuCheck;

/// <summary>
/// Helper verbs for bench/gpu/run.sh (hidden; not part of `vlmtune`'s product surface):
/// <list type="bullet">
/// <item><c>bench-data --out DIR --count N [--image-size S] [--seed S]</c>: the demo's seeded shapes task as
/// DIR/sft-train.jsonl + DIR/images (every image the same size, so every sample has the same tile count);</item>
/// <item><c>bench-tokenizer --model DIR</c>: for a checkpoint that `vlmtune init` wrote without a tokenizer (the 2.2B
/// layout): a stand-in tokenizer.json / tokenizer_config.json with that layout (see <see cref="StandInTokenizer"/>);</item>
/// <item><c>sft-batch RECIPE [--set k=v]... --out FILE</c>: the first micro-batch the SFT trainer would run for this
/// recipe (same encoder, same seeded order, same collator) as safetensors: input_ids, attention_mask, labels I64 (B, T),
/// pixel_values F32 (B, N, 3, M, M), pixel_attention_mask BOOL (B, N, M, M) — the HF peer trains on exactly this;</item>
/// <item><c>compare A.safetensors B.safetensors [--tensor NAME] [--rtol R] [--atol A] [--json FILE]</c>: max abs /
/// rel differences, argmax agreement over the last axis and a verdict (|a−b| ≤ atol + rtol·max|a|).</item>
/// </list>
/// </summary>
public static class BenchVerbs
{
    public static int BenchData(string[] args)
    {
        var a = new Args(args, "bench-data --out DIR --count N [--image-size S] [--seed S]");
        string dir = a.Required("--out");
        int count = a.Int("--count", 16), size = a.Int("--image-size", 512);
        ulong seed = (ulong)a.Int("--seed", 1);
        a.Done();
        var data = ShapesTask.Write(dir, seed, count, 0, size);
        Console.WriteLine($"bench-data: {data.Train.Count} SFT records with {size}×{size} images → {Path.Combine(dir, "sft-train.jsonl")}");
        return 0;
    }

    public static int BenchTokenizer(string[] args)
    {
        var a = new Args(args, "bench-tokenizer --model DIR");
        string dir = a.Required("--model");
        a.Done();
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) return a.Fail($"{dir}: no config.json");
        if (File.Exists(Path.Combine(dir, "tokenizer.json")))
        {
            Console.WriteLine($"bench-tokenizer: {dir} already has tokenizer.json; left as it is");
            return 0;
        }
        using var config = JsonDocument.Parse(File.ReadAllBytes(configPath));
        int image = config.RootElement.GetProperty("image_token_id").GetInt32();
        int vocab = config.RootElement.GetProperty("text_config").GetProperty("vocab_size").GetInt32();
        var (tokenizer, tokenizerConfig) = StandInTokenizer(image, vocab);
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), tokenizer);
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), tokenizerConfig);
        Console.WriteLine($"bench-tokenizer: wrote a stand-in tokenizer (vocab {vocab}, <image> = {image}) into {dir}");
        return 0;
    }

    /// <summary>
    /// VlmTune's tiny BPE tokenizer stretched to SmolLM2's 49152 base ids (<see cref="TokenizerVocabLayout.Stretch"/>),
    /// laid out for the 2.2B config (vocab 49155): &lt;fake_token_around_image&gt; = 49152, &lt;image&gt; = 49153,
    /// &lt;end_of_utterance&gt; = 49154 as in the real checkpoint (spec smolvlm.md §1.5). The real one has no
    /// &lt;global-img&gt; / &lt;row_r_col_c&gt; tokens (they are text there), but VlmTune's processor requires them, so the
    /// stand-in keeps them as added tokens on the top ids of the unreachable filler range (49152 − k … 49151, fillers
    /// removed). Each tile marker is then one token instead of ~7: a sample is ~100 tokens shorter than with the real
    /// tokenizer, out of ~1,450. Not the real vocabulary: for timing, not for quality.
    /// </summary>
    static (string Tokenizer, string Config) StandInTokenizer(int image, int vocab)
    {
        const int Base = TokenizerVocabLayout.BaseVocab;
        if (image - 1 != Base || vocab != image + 2)
            throw new InvalidOperationException($"bench-tokenizer: only the 2.2B layout (<image> = {Base + 1}, vocab {Base + 3}) is known; the config has <image> = {image}, vocab {vocab}");
        var assembly = typeof(VlmTune.Cli.Program).Assembly;
        string Resource(string name)
        {
            using var s = assembly.GetManifestResourceStream("VlmTune.Cli.Resources.tiny." + name)
                ?? throw new InvalidOperationException($"resource {name} missing from the vlmtune assembly");
            using var r = new StreamReader(s);
            return r.ReadToEnd();
        }
        var root = (JsonObject)JsonNode.Parse(TokenizerVocabLayout.Stretch(Resource("tokenizer.json")))!;
        var vocabObject = (JsonObject)root["model"]!["vocab"]!;
        var added = (JsonArray)root["added_tokens"]!;
        var fixedIds = new Dictionary<string, int> { ["<fake_token_around_image>"] = image - 1, ["<image>"] = image, ["<end_of_utterance>"] = image + 1 };
        var moved = added.Select(n => (JsonObject)n!).Where(t => t["id"]!.GetValue<int>() >= Base).ToList();
        var missing = fixedIds.Keys.Where(k => moved.All(t => t["content"]!.GetValue<string>() != k)).ToList();
        if (missing.Count > 0) throw new InvalidOperationException($"bench-tokenizer: the tiny tokenizer lacks {string.Join(", ", missing)}");
        var others = moved.Where(t => !fixedIds.ContainsKey(t["content"]!.GetValue<string>())).ToList();
        // Hugging Face tokenizers ignore the ids in added_tokens: a token not in model.vocab gets the next id after the
        // vocabulary's size, in list order (VlmTune's loader checks that). So the fillers of the top ids go, the moved
        // tokens follow the specials in that order, and the three fixed ones come last.
        int next = Base - others.Count;
        foreach (var t in others)
        {
            int id = next++;
            if (!vocabObject.Remove(TokenizerVocabLayout.Filler(id)))
                throw new InvalidOperationException($"bench-tokenizer: id {id} is not a filler id; cannot place {t["content"]} there");
            t["id"] = id;
        }
        var last = fixedIds.OrderBy(kv => kv.Value).Select(kv => moved.First(t => t["content"]!.GetValue<string>() == kv.Key)).ToList();
        foreach (var t in last) t["id"] = fixedIds[t["content"]!.GetValue<string>()];
        var kept = added.Select(n => (JsonObject)n!).Where(t => !moved.Contains(t)).ToList();
        added.Clear();
        foreach (var t in kept.Concat(others).Concat(last)) added.Add(t);
        var options = new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        return (root.ToJsonString(options) + "\n", Resource("tokenizer_config.json"));
    }

    public static int SftBatch(string[] args)
    {
        var a = new Args(args, "sft-batch RECIPE [--set key=value]... --out FILE");
        string output = a.Required("--out");
        var sets = a.All("--set");
        string recipePath = a.Positional() ?? throw new ArgumentException("sft-batch: the recipe path is required");
        a.Done();
        var recipe = RecipeLoader.Load(recipePath, sets);
        if (recipe.Kind != RecipeKind.Sft) return a.Fail($"{recipePath}: not an SFT recipe");
        var s = RecipeMapping.ToRunSettings(recipe);
        if (s.EvalCount > 0 || s.EvalFraction > 0) Console.Error.WriteLine("warning: sft-batch ignores an eval split taken from the training data");
        var processor = SmolVlmProcessor.FromDirectory(s.ModelDir, s.MaxLength);
        var encoder = new SftEncoder(processor, new EncodingOptions { AssistantOnly = s.AssistantOnly, Overflow = s.Overflow });
        var log = new BadRecordLog(s.OnBadRecord);
        var samples = new List<EncodedSample>();
        using (var ds = DatasetReader.OpenSft(s.TrainData, new DatasetOptions { OnBadRecord = s.OnBadRecord, AllowOutsideRoot = s.AllowOutsideRoot }))
            foreach (var ex in ds.Examples(log))
                if (encoder.Encode(ex) is { } e) samples.Add(e);
        if (samples.Count == 0) return a.Fail($"{s.TrainData}: no usable samples");
        var order = new EpochOrder(samples.Count, s.Seed, s.Shuffle);
        var batch = new SftCollator(processor).Collate(order.Slice(0, s.BatchSize).Select(i => samples[i]).ToList());

        int b = batch.BatchSize, t = batch.SequenceLength, n = batch.MaxTiles, m = batch.TileSize;
        var writer = new SafeTensorsWriter
        {
            Metadata = new()
            {
                ["format"] = "vlmtune-sft-batch", ["recipe"] = Path.GetFullPath(recipePath), ["model"] = Path.GetFullPath(s.ModelDir),
                ["tokens"] = batch.AttentionMask.Sum().ToString(CultureInfo.InvariantCulture),
            },
        };
        writer.Add("input_ids", DType.I64, [b, t], Bytes(batch.InputIds));
        writer.Add("attention_mask", DType.I64, [b, t], Bytes(batch.AttentionMask));
        writer.Add("labels", DType.I64, [b, t], Bytes(batch.Labels));
        if (n > 0)
        {
            writer.Add("pixel_values", DType.F32, [b, n, 3, m, m], Bytes(batch.PixelValues));
            var mask = new byte[(long)b * n * m * m];
            for (int i = 0; i < b * n; i++)
                if (batch.TileMask[i] != 0) mask.AsSpan((int)((long)i * m * m), m * m).Fill(1);
            writer.Add("pixel_attention_mask", "BOOL", [b, n, m, m], mask);
        }
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(output))!);
        writer.WriteFile(output);
        long supervised = batch.Labels.Count(l => l != LabelMask.IgnoreIndex);
        Console.WriteLine($"sft-batch: {output}: batch {b} × {t} tokens ({batch.AttentionMask.Sum()} real, {supervised} supervised), {n} tiles of {m}² per sample");
        return 0;
    }

    public static int Compare(string[] args)
    {
        var a = new Args(args, "compare A.safetensors B.safetensors [--tensor NAME] [--rtol R] [--atol A] [--json FILE]");
        string tensor = a.Value("--tensor") ?? "logits";
        double rtol = a.Double("--rtol", 1e-3), atol = a.Double("--atol", 1e-4);
        string? json = a.Value("--json");
        string pa = a.Positional() ?? throw new ArgumentException("compare: two files are required");
        string pb = a.Positional() ?? throw new ArgumentException("compare: two files are required");
        a.Done();
        var x = ReadFloats(pa, tensor, out var shapeA);
        var y = ReadFloats(pb, tensor, out var shapeB);
        if (!shapeA.SequenceEqual(shapeB)) return a.Fail($"compare: {tensor} has shape [{string.Join(", ", shapeA)}] in {pa} and [{string.Join(", ", shapeB)}] in {pb}");
        double maxAbs = 0, maxRef = 0, maxRel = 0, dot = 0, nx = 0, ny = 0;
        long nonFinite = 0, worst = -1;
        for (long i = 0; i < x.Length; i++)
        {
            double u = x[i], v = y[i];
            if (!double.IsFinite(u) || !double.IsFinite(v)) { if (!(u.Equals(v))) nonFinite++; continue; }
            double d = Math.Abs(u - v);
            if (d > maxAbs) { maxAbs = d; worst = i; }
            maxRef = Math.Max(maxRef, Math.Abs(u));
            maxRel = Math.Max(maxRel, d / Math.Max(Math.Abs(u), 1e-6));
            dot += u * v; nx += u * u; ny += v * v;
        }
        long rows = 0, agree = 0;
        int last = shapeA.Length > 0 ? (int)shapeA[^1] : 1;
        if (last > 1)
            for (long r = 0; r + last <= x.Length; r += last, rows++)
                if (ArgMax(x, r, last) == ArgMax(y, r, last)) agree++;
        double cosine = nx > 0 && ny > 0 ? dot / Math.Sqrt(nx * ny) : (nx == ny ? 1 : 0);
        bool pass = nonFinite == 0 && maxAbs <= atol + rtol * maxRef;
        string verdict = pass ? "PASS" : "FAIL";
        Console.WriteLine($"compare {tensor} [{string.Join(", ", shapeA)}]: max |a−b| {maxAbs:G4} (at {worst}), max |a| {maxRef:G4}, max rel {maxRel:G4}, " +
                          $"cosine {cosine:F8}, argmax agreement {agree}/{rows}, non-finite mismatches {nonFinite} → {verdict} (atol {atol:G3} + rtol {rtol:G3}·max|a|)");
        if (json != null)
        {
            using var stream = File.Create(json);
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteString("tensor", tensor);
            w.WriteString("a", Path.GetFullPath(pa));
            w.WriteString("b", Path.GetFullPath(pb));
            w.WriteStartArray("shape");
            foreach (long d in shapeA) w.WriteNumberValue(d);
            w.WriteEndArray();
            w.WriteNumber("max_abs_diff", maxAbs);
            w.WriteNumber("max_abs_ref", maxRef);
            w.WriteNumber("max_rel_diff", maxRel);
            w.WriteNumber("cosine", cosine);
            w.WriteNumber("argmax_rows", rows);
            w.WriteNumber("argmax_agree", agree);
            w.WriteNumber("non_finite_mismatches", nonFinite);
            w.WriteNumber("rtol", rtol);
            w.WriteNumber("atol", atol);
            w.WriteBoolean("pass", pass);
            w.WriteEndObject();
        }
        return pass ? 0 : 1;
    }

    static long ArgMax(float[] v, long start, int n)
    {
        long best = start;
        for (long i = start + 1; i < start + n; i++) if (v[i] > v[best]) best = i;
        return best - start;
    }

    static float[] ReadFloats(string path, string name, out long[] shape)
    {
        if (!File.Exists(path)) throw new ArgumentException($"compare: {path} not found");
        using var f = SafeTensorsFile.Open(path);
        var info = f.TryGetInfo(name) ?? throw new ArgumentException($"compare: {path} has no tensor '{name}' (has: {string.Join(", ", f.Names)})");
        shape = info.Shape;
        var bytes = f.GetBytes(name);
        switch (info.DTypeName)
        {
            case "F32": return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
            case "BF16":
            {
                var bits = MemoryMarshal.Cast<byte, ushort>(bytes);
                var r = new float[bits.Length];
                for (int i = 0; i < r.Length; i++) r[i] = BitConverter.Int32BitsToSingle(bits[i] << 16);
                return r;
            }
            case "F16":
            {
                var bits = MemoryMarshal.Cast<byte, Half>(bytes);
                var r = new float[bits.Length];
                for (int i = 0; i < r.Length; i++) r[i] = (float)bits[i];
                return r;
            }
            default: throw new ArgumentException($"compare: {path}: {name} is {info.DTypeName}; F32, BF16 or F16 is needed");
        }
    }

    static byte[] Bytes<T>(T[] values) where T : unmanaged => MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    /// <summary>A tiny argument reader: --name value options, repeatable ones, positionals; errors are ArgumentException.</summary>
    sealed class Args(string[] args, string usage)
    {
        readonly List<string?> _rest = [.. args];

        public string? Value(string name)
        {
            int i = _rest.IndexOf(name);
            if (i < 0) return null;
            if (i + 1 >= _rest.Count || _rest[i + 1] == null) throw new ArgumentException($"{name} needs a value\nusage: vlmtune {usage}");
            string v = _rest[i + 1]!;
            _rest.RemoveRange(i, 2);
            return v;
        }

        public string Required(string name) => Value(name) ?? throw new ArgumentException($"{name} is required\nusage: vlmtune {usage}");

        public List<string> All(string name)
        {
            var list = new List<string>();
            while (Value(name) is { } v) list.Add(v);
            return list;
        }

        public int Int(string name, int fallback)
        {
            string? v = Value(name);
            if (v == null) return fallback;
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new ArgumentException($"{name}: '{v}' is not a positive integer");
        }

        public double Double(string name, double fallback)
        {
            string? v = Value(name);
            if (v == null) return fallback;
            return double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= 0 ? d : throw new ArgumentException($"{name}: '{v}' is not a number ≥ 0");
        }

        public string? Positional()
        {
            int i = _rest.FindIndex(x => x != null && !x.StartsWith("--", StringComparison.Ordinal));
            if (i < 0) return null;
            string v = _rest[i]!;
            _rest.RemoveAt(i);
            return v;
        }

        public void Done()
        {
            if (_rest.Count > 0) throw new ArgumentException($"unexpected argument '{_rest[0]}'\nusage: vlmtune {usage}");
        }

        public int Fail(string message)
        {
            Console.Error.WriteLine($"error: {message}");
            return 1;
        }
    }

    /// <summary>Runs a verb, turning argument errors into exit code 2 with the message.</summary>
    public static int Guard(Func<string[], int> verb, string[] args)
    {
        try { return verb(args); }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine($"error: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }
}
