using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using VlmTune.ChatTemplates;
using VlmTune.Data;
using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Models.SmolVlm;
using VlmTune.Training.Dpo;
using VlmTune.Training.Evaluation;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune eval --model M [--adapter A [--base as-trained|original]] --data FILE.jsonl [--kind auto|sft|dpo]
/// [--out DIR] [--limit N] [--batch-size N] [--max-new-tokens N] [--no-generate] [--beta B] [--loss-type T]`.
/// SFT data: teacher-forced loss and token accuracy per record (batched), and the greedy generation of each record's
/// last assistant turn from the turns before it, compared with the reference (exact and normalised match, see
/// <see cref="AnswerMatch"/>; batched, see Generator.GenerateBatch); DIR/predictions.jsonl (one line per record) + DIR/summary.json. DPO data: loss,
/// reward accuracy and margins (policy = adapter on, reference = adapter off) in DIR/summary.json. The summary is
/// also printed; progress goes to stderr.
/// </summary>
public static class EvalCommand
{
    /// <summary>JSON as Python's json.dumps(ensure_ascii=False) writes it: "<image>", not "\u003Cimage\u003E".</summary>
    internal static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Base model checkpoint folder.", Required = true };
        var adapter = AdaptedModelOptions.CreateAdapter();
        var baseChoice = AdaptedModelOptions.CreateBase();
        var data = new Option<string>("--data") { Description = "JSONL dataset (SFT messages / prompt-completion, or DPO prompt/chosen/rejected).", Required = true };
        var kind = new Option<string>("--kind") { Description = "auto (detect from the first record), sft or dpo.", DefaultValueFactory = _ => "auto" };
        var output = new Option<string?>("--out") { Description = "Folder for predictions.jsonl and summary.json (created; files replaced)." };
        var limit = new Option<int>("--limit") { Description = "Evaluate only the first N usable records (0 = all).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch-size") { Description = "Records per teacher-forced forward pass.", DefaultValueFactory = _ => 4 };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens generated per SFT record.", DefaultValueFactory = _ => 64 };
        var noGenerate = new Option<bool>("--no-generate") { Description = "SFT: loss and token accuracy only, no generation." };
        var beta = new Option<float>("--beta") { Description = "DPO: β of the loss and rewards.", DefaultValueFactory = _ => 0.1f };
        var lossType = new Option<string>("--loss-type") { Description = "DPO: sigmoid, ipo, hinge or robust.", DefaultValueFactory = _ => "sigmoid" };
        var onBad = new Option<string>("--on-bad-record") { Description = "error (stop at the first bad record) or skip (leave it out, reported).", DefaultValueFactory = _ => "error" };
        var device = DeviceSelection.CreateOption();
        var nonRgb = ImageOptions.CreateNonRgbImages();
        var command = new Command("eval", "Evaluate a model (and adapter) on SFT or DPO data: loss, token accuracy, generations / reward metrics.");
        foreach (var o in new Option[] { model, adapter, baseChoice, data, kind, output, limit, batch, maxNew, noGenerate, beta, lossType, onBad, device, nonRgb })
            command.Options.Add(o);
        command.SetAction(r =>
        {
            string dataPath = r.GetValue(data)!;
            if (!File.Exists(dataPath)) throw new UserErrorException($"{dataPath}: data file not found");
            if (r.GetValue(limit) < 0) throw new UserErrorException($"--limit must be ≥ 0, got {r.GetValue(limit)}");
            if (r.GetValue(batch) < 1) throw new UserErrorException($"--batch-size must be ≥ 1, got {r.GetValue(batch)}");
            if (r.GetValue(maxNew) < 1) throw new UserErrorException($"--max-new-tokens must be ≥ 1, got {r.GetValue(maxNew)}");
            bool dpo = r.GetValue(kind) switch
            {
                "auto" => DetectDpo(dataPath),
                "sft" => false,
                "dpo" => true,
                var k => throw new UserErrorException($"--kind: expected auto, sft or dpo, got '{k}'"),
            };
            var settings = new DpoLossSettings
            {
                Beta = r.GetValue(beta),
                LossType = r.GetValue(lossType) switch
                {
                    "sigmoid" => DpoLossType.Sigmoid, "ipo" => DpoLossType.Ipo, "hinge" => DpoLossType.Hinge, "robust" => DpoLossType.Robust,
                    var t => throw new UserErrorException($"--loss-type: expected sigmoid, ipo, hinge or robust, got '{t}'"),
                },
            };
            string modelDir = r.GetValue(model)!;
            string? adapterDir = r.GetValue(adapter);
            var processor = AdaptedModelOptions.Processor(modelDir, adapterDir, r.GetValue(nonRgb));
            var dev = DeviceSelection.Resolve(r.GetValue(device), null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
            var (net, adapters) = AdaptedModelOptions.Load(modelDir, adapterDir, r.GetValue(baseChoice)!, dev);
            var options = new DatasetOptions
            {
                OnBadRecord = r.GetValue(onBad) switch
                {
                    "error" => BadRecordPolicy.Error,
                    "skip" => BadRecordPolicy.Skip,
                    var v => throw new UserErrorException($"--on-bad-record: expected error or skip, got '{v}'"),
                },
            };
            var summary = dpo
                ? EvaluateDpo(net, adapters, processor, dataPath, options, settings, r.GetValue(limit), r.GetValue(batch))
                : EvaluateSft(net, processor, dataPath, options, r.GetValue(limit), r.GetValue(batch), r.GetValue(noGenerate) ? 0 : r.GetValue(maxNew), r.GetValue(output));
            string text = summary.ToJsonString(new JsonSerializerOptions(Json) { WriteIndented = true });
            if (r.GetValue(output) is { } outDir) WriteAtomic(Path.Combine(Prepare(outDir), "summary.json"), text + "\n");
            Console.WriteLine(text);
            return 0;
        });
        return command;
    }

    static JsonObject EvaluateSft(SmolVlmModel net, SmolVlmProcessor processor, string path, DatasetOptions options,
        int limit, int batchSize, int maxNew, string? outDir)
    {
        var log = new BadRecordLog(options.OnBadRecord);
        var encoder = new SftEncoder(processor);
        var records = new List<(SftExample Example, EncodedSample Encoded)>();
        using (var ds = DatasetReader.OpenSft(path, options))
            foreach (var ex in ds.Examples(log))
            {
                if (limit > 0 && records.Count >= limit) break;
                EncodedSample? e;
                try { e = encoder.Encode(ex); }
                catch (DatasetRecordException x) when (options.OnBadRecord == BadRecordPolicy.Skip) { log.Handle(x); continue; }
                if (e != null) records.Add((ex, e));
            }
        if (log.SkippedCount > 0) Console.Error.WriteLine($"warning: {log.Summary()}");
        if (records.Count == 0) throw new UserErrorException($"{path}: no usable SFT records");

        var scores = SftEvaluation.Score(net, new SftCollator(processor), records.Select(r => r.Encoded).ToList(), batchSize,
            (done, total) => Console.Error.WriteLine($"eval: scored {done}/{total} records"));
        double nll = scores.Sum(s => s.Nll);
        long tokens = scores.Sum(s => s.Tokens), correct = scores.Sum(s => s.Correct);
        int exact = 0, normalised = 0;
        string? tmp = outDir == null ? null : Path.Combine(Prepare(outDir), $"predictions.jsonl.tmp-{Environment.ProcessId}");
        // Greedy answers, generated batch by batch (left-padded, one KV cache per batch).
        var predictions = new string?[records.Count];
        var references = new string?[records.Count];
        if (maxNew > 0)
        {
            var todo = records.Select((r, i) => (i, Turn: LastAssistantTurn(r.Example))).Where(x => x.Turn != null).ToList();
            var generation = new GenerationOptions { MaxNewTokens = maxNew, StopTokenIds = [processor.TokenIds.EndOfUtterance] };
            for (int k = 0; k < todo.Count; k += batchSize)
            {
                var chunk = todo.Skip(k).Take(batchSize).ToList();
                var prompts = chunk.Select(x => GenerateCommand.FromConversation(processor, x.Turn!.Value.Prompt,
                    records[x.i].Example.Images.Take(x.Turn.Value.Images).Select(s => s.Open()).ToArray(),
                    records[x.i].Example.Images.Take(x.Turn.Value.Images).Select(s => $"{s.Record}: {s.FieldPath}").ToArray())).ToList();
                var outputs = Generator.GenerateBatch(net, prompts, generation, processor.PadId);
                for (int j = 0; j < chunk.Count; j++)
                {
                    predictions[chunk[j].i] = processor.Tokenizer.Decode(GenerateCommand.ReplyIds(outputs[j], processor)).Trim();
                    references[chunk[j].i] = chunk[j].Turn!.Value.Answer;
                }
                Console.Error.WriteLine($"eval: generated {Math.Min(todo.Count, k + batchSize)}/{todo.Count}");
            }
        }
        using (var sink = tmp == null ? null : new StreamWriter(tmp))
        {
            for (int i = 0; i < records.Count; i++)
            {
                var (ex, _) = records[i];
                string? prediction = predictions[i], reference = references[i];
                bool isExact = false, isNormalised = false;
                if (prediction != null && reference != null)
                {
                    isExact = AnswerMatch.Exact(prediction, reference);
                    isNormalised = AnswerMatch.Normalised(prediction, reference);
                    exact += isExact ? 1 : 0;
                    normalised += isNormalised ? 1 : 0;
                }
                sink?.WriteLine(new JsonObject
                {
                    ["record"] = ex.Source.ToString(), ["loss"] = Math.Round(scores[i].Loss, 6), ["tokens"] = scores[i].Tokens,
                    ["token_accuracy"] = Math.Round(scores[i].TokenAccuracy, 6), ["prediction"] = prediction, ["reference"] = reference,
                    ["exact_match"] = maxNew > 0 ? isExact : null, ["normalized_match"] = maxNew > 0 ? isNormalised : null,
                }.ToJsonString(Json));
            }
        }
        if (tmp != null) File.Move(tmp, Path.Combine(outDir!, "predictions.jsonl"), overwrite: true);
        var summary = new JsonObject
        {
            ["kind"] = "sft", ["data"] = path, ["records"] = records.Count, ["skipped"] = log.SkippedCount,
            ["loss"] = Math.Round(tokens == 0 ? 0 : nll / tokens, 6), ["token_accuracy"] = Math.Round(tokens == 0 ? 0 : (double)correct / tokens, 6),
            ["supervised_tokens"] = tokens,
        };
        if (maxNew > 0)
        {
            summary["exact_match"] = Math.Round((double)exact / records.Count, 6);
            summary["normalized_match"] = Math.Round((double)normalised / records.Count, 6);
        }
        return summary;
    }

    static JsonObject EvaluateDpo(SmolVlmModel net, VlmTune.Models.SmolVlm.Adapters.AdapterSet? adapters, SmolVlmProcessor processor,
        string path, DatasetOptions options, DpoLossSettings settings, int limit, int batchSize)
    {
        var log = new BadRecordLog(options.OnBadRecord);
        var encoder = new PreferenceEncoder(processor);
        var pairs = new List<EncodedPair>();
        using (var ds = DatasetReader.OpenPreference(path, options))
            foreach (var ex in ds.Examples(log))
            {
                if (limit > 0 && pairs.Count >= limit) break;
                EncodedPair? e;
                try { e = encoder.Encode(ex); }
                catch (DatasetRecordException x) when (options.OnBadRecord == BadRecordPolicy.Skip) { log.Handle(x); continue; }
                if (e != null) pairs.Add(e);
            }
        if (log.SkippedCount > 0) Console.Error.WriteLine($"warning: {log.Summary()}");
        if (pairs.Count == 0) throw new UserErrorException($"{path}: no usable preference pairs");
        if (adapters == null) Console.Error.WriteLine("eval: no --adapter, so the policy is the reference: rewards and margins are 0");
        var report = DpoEvaluation.Evaluate(net, adapters, new DpoCollator(processor), pairs, settings, batchSize, 0,
            (done, total) => Console.Error.WriteLine($"eval: {done}/{total} pairs"));
        var summary = new JsonObject
        {
            ["kind"] = "dpo", ["data"] = path, ["pairs"] = report.Pairs, ["skipped"] = log.SkippedCount,
            ["loss_type"] = settings.LossType.ToString().ToLowerInvariant(), ["beta"] = settings.Beta, ["loss"] = Math.Round(report.Loss, 6),
        };
        foreach (var (k, v) in report.Metrics.Named()) summary[k] = Math.Round(v, 6);
        return summary;
    }

    /// <summary>The turns before the last assistant turn, how many images they hold, and that turn's text; null if there is none.</summary>
    internal static (IReadOnlyList<ChatMessage> Prompt, int Images, string Answer)? LastAssistantTurn(SftExample ex)
    {
        int last = -1;
        for (int i = ex.Messages.Count - 1; i >= 0; i--)
            if (ex.Messages[i].Role == "assistant") { last = i; break; }
        if (last <= 0) return null;
        var prompt = ex.Messages.Take(last).ToList();
        int images = prompt.Sum(m => m.Parts?.Count(p => p.Type == "image") ?? 0);
        var turn = ex.Messages[last];
        string answer = turn.Parts is { } parts ? string.Concat(parts.Where(p => p.Type == "text").Select(p => p.Text)) : turn.Text ?? "";
        return (prompt, images, answer.Trim());
    }

    /// <summary>A preference record has "chosen" (and "rejected") at the top level.</summary>
    static bool DetectDpo(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            try
            {
                using var doc = JsonDocument.Parse(line.TrimStart('\uFEFF'));
                return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("chosen", out _);
            }
            catch (JsonException) { return false; }   // the SFT reader reports the bad line with its number
        }
        return false;
    }

    static string Prepare(string dir)
    {
        if (File.Exists(dir)) throw new UserErrorException($"--out {dir}: is a file, a folder is needed");
        Directory.CreateDirectory(dir);
        return dir;
    }

    static void WriteAtomic(string path, string text)
    {
        string tmp = $"{path}.tmp-{Environment.ProcessId}";
        File.WriteAllText(tmp, text);
        File.Move(tmp, path, overwrite: true);
    }
}
