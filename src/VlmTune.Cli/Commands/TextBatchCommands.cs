using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using VlmTune.ChatTemplates;
using VlmTune.Data.Datasets;
using VlmTune.Tokenizers;

namespace VlmTune.Cli.Commands;

/// <summary>
/// The text pipeline in batch, one JSON value per line in and out (output to --out, written to a temp file and renamed,
/// or stdout):
/// <list type="bullet">
/// <item>`tokenize --model DIR --jsonl IN` (see <see cref="TokenizeCommand"/>): each line a JSON string or
/// {"text": ...} → {"ids": [...]}.</item>
/// <item>`vlmtune decode --model DIR (--ids "1,2,3" | --jsonl IN) [--skip-special-tokens]`: each line [ids] or
/// {"ids": [...]} → {"text": ...}; the default keeps special tokens (HF's decode default).</item>
/// <item>`vlmtune render --model DIR --data IN.jsonl [--generation-prompt]`: each SFT record (messages or
/// prompt/completion, datasets.md) through the checkpoint's chat template → {"record": "file:line", "text": ...}.</item>
/// </list>
/// A bad line is an error naming the file, the line and the field; nothing is left half-written.
/// </summary>
public static class TextBatchCommands
{
    /// <summary>JSON as Python's json.dumps(ensure_ascii=False) writes it: "<image>", not "\u003Cimage\u003E".</summary>
    internal static readonly JsonSerializerOptions Json = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command CreateDecode()
    {
        var model = new Option<string>("--model") { Description = "Model folder holding tokenizer.json, or the tokenizer.json itself.", Required = true };
        var ids = new Option<string?>("--ids") { Description = "Token ids: \"1 2 3\", \"1,2,3\" or \"[1, 2, 3]\"." };
        var jsonl = new Option<string?>("--jsonl") { Description = "JSONL input: one [ids] or {\"ids\": [...]} per line; writes {\"text\": ...} lines." };
        var skip = new Option<bool>("--skip-special-tokens") { Description = "Drop special tokens (<end_of_utterance>, <image>, ...) from the text." };
        var output = new Option<string?>("--out") { Description = "Write the JSONL here instead of stdout (with --jsonl)." };
        var command = new Command("decode", "Turn token ids back into text (with or without special tokens).") { model, ids, jsonl, skip, output };
        command.SetAction(r =>
        {
            var tokenizer = LoadTokenizer(r.GetValue(model)!);
            bool skipSpecial = r.GetValue(skip);
            if ((r.GetValue(ids) is null) == (r.GetValue(jsonl) is null)) throw new UserErrorException("give exactly one of --ids and --jsonl");
            if (r.GetValue(ids) is { } list)
            {
                Console.WriteLine(tokenizer.Decode(ParseIdList(list, tokenizer.VocabSize), skipSpecialTokens: skipSpecial));
                return 0;
            }
            MapLines(r.GetValue(jsonl)!, r.GetValue(output), (value, where) =>
            {
                var array = value.ValueKind == JsonValueKind.Array ? value
                    : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("ids", out var f) && f.ValueKind == JsonValueKind.Array ? f
                    : throw new UserErrorException($"{where}: expected a list of ids or an object with \"ids\"");
                var decoded = array.EnumerateArray().Select((x, i) => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out int id) && id >= 0 && id < tokenizer.VocabSize ? id
                    : throw new UserErrorException($"{where}: ids[{i}] = {x.GetRawText()} is not a token id (0..{tokenizer.VocabSize - 1})")).ToArray();
                return new JsonObject { ["text"] = tokenizer.Decode(decoded, skipSpecialTokens: skipSpecial) };
            });
            return 0;
        });
        return command;
    }

    public static Command CreateRender()
    {
        var model = new Option<string>("--model") { Description = "Model (or adapter) folder holding the chat template.", Required = true };
        var data = new Option<string>("--data") { Description = "SFT JSONL (messages, or prompt/completion).", Required = true };
        var generation = new Option<bool>("--generation-prompt") { Description = "Render with add_generation_prompt (the prompt a model continues)." };
        var output = new Option<string?>("--out") { Description = "Write the JSONL here instead of stdout." };
        var command = new Command("render", "Render each conversation of a JSONL file through the checkpoint's chat template.") { model, data, generation, output };
        command.SetAction(r =>
        {
            string dir = r.GetValue(model)!, path = r.GetValue(data)!;
            if (!Directory.Exists(dir)) throw new UserErrorException($"{dir}: model folder does not exist");
            if (!File.Exists(path)) throw new UserErrorException($"{path}: data file not found");
            var template = ChatTemplate.FromCheckpoint(dir);
            var lines = new List<string>();
            var log = new BadRecordLog(BadRecordPolicy.Error);
            using (var ds = DatasetReader.OpenSft(path, new DatasetOptions { AllowOutsideRoot = true }))
                foreach (var ex in ds.Examples(log))
                    lines.Add(new JsonObject
                    {
                        ["record"] = ex.Source.ToString(),
                        ["text"] = template.Render(ex.Messages, r.GetValue(generation)),
                    }.ToJsonString(Json));
            Write(r.GetValue(output), lines);
            return 0;
        });
        return command;
    }

    /// <summary>tokenize --jsonl: each line a JSON string or {"text": ...} → {"ids": [...]}.</summary>
    internal static void TokenizeJsonl(Tokenizer tokenizer, string input, string? output, bool addSpecialTokens) =>
        MapLines(input, output, (value, where) =>
        {
            string text = value.ValueKind == JsonValueKind.String ? value.GetString()!
                : value.ValueKind == JsonValueKind.Object && value.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()!
                : throw new UserErrorException($"{where}: expected a JSON string or an object with a string \"text\"");
            return new JsonObject { ["ids"] = new JsonArray(tokenizer.Encode(text, addSpecialTokens).Select(i => (JsonNode)i).ToArray()) };
        });

    internal static Tokenizer LoadTokenizer(string path)
    {
        if (Directory.Exists(path)) return Tokenizer.FromDirectory(path);
        if (File.Exists(path)) return Tokenizer.FromFile(path);
        throw new UserErrorException($"{path}: no such model folder or tokenizer.json");
    }

    static int[] ParseIdList(string input, int vocabSize)
    {
        var pieces = input.Split([' ', '\t', ',', '[', ']'], StringSplitOptions.RemoveEmptyEntries);
        return pieces.Select((p, i) => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int id) && id >= 0 && id < vocabSize ? id
            : throw new UserErrorException($"--ids: item {i + 1} \"{p}\" is not a token id (0..{vocabSize - 1})")).ToArray();
    }

    /// <summary>Maps each non-blank JSONL line (a UTF-8 BOM at the start is allowed) to one output line.</summary>
    static void MapLines(string input, string? output, Func<JsonElement, string, JsonObject> map)
    {
        if (!File.Exists(input)) throw new UserErrorException($"{input}: file not found");
        var lines = new List<string>();
        int number = 0;
        foreach (var raw in File.ReadLines(input))
        {
            number++;
            string line = number == 1 ? raw.TrimStart('\uFEFF') : raw;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{input}:{number}";
            JsonDocument doc;
            try { doc = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new UserErrorException($"{where}: invalid JSON ({e.Message.Split('.')[0]})"); }
            using (doc) lines.Add(map(doc.RootElement, where).ToJsonString(Json));
        }
        Write(output, lines);
    }

    static void Write(string? output, List<string> lines)
    {
        if (output == null)
        {
            foreach (var l in lines) Console.WriteLine(l);
            return;
        }
        string tmp = $"{output}.tmp-{Environment.ProcessId}";
        try
        {
            File.WriteAllLines(tmp, lines);
            File.Move(tmp, output, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (File.Exists(tmp)) File.Delete(tmp);
            throw new UserErrorException($"cannot write {output}: {e.Message}");
        }
    }
}
