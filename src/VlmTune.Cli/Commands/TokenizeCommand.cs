using System.CommandLine;
using System.Globalization;
using VlmTune.Tokenizers;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune tokenize`: token ids of a text (space separated, or a JSON array with --json), or with --decode the text of
/// ids given as "1 2 3", "1,2,3" or "[1, 2, 3]".
/// </summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--model", "--tokenizer") { Description = "A model directory holding tokenizer.json, or the tokenizer.json itself (--tokenizer is the same option).", Required = true };
        var text = new Option<string?>("--text") { Description = "The text (or, with --decode, the ids)." };
        var file = new Option<string?>("--file") { Description = "Read the text (or ids) from this file instead." };
        var json = new Option<bool>("--json") { Description = "Print the ids as a JSON array." };
        var decode = new Option<bool>("--decode") { Description = "Decode ids into text." };
        var noSpecial = new Option<bool>("--no-special") { Description = "Encode without the post-processor's special tokens; decode skipping special tokens." };
        var jsonl = new Option<string?>("--jsonl") { Description = "Batch: a JSONL file, one JSON string or {\"text\": ...} per line; writes {\"ids\": [...]} lines." };
        var output = new Option<string?>("--out") { Description = "With --jsonl: write the JSONL here instead of stdout." };
        var command = new Command("tokenize", "Encode text to token ids, or decode ids to text.");
        foreach (var o in new Option[] { tokenizer, text, file, json, decode, noSpecial, jsonl, output }) command.Options.Add(o);
        command.SetAction(r =>
        {
            if (r.GetValue(jsonl) is not { } batch)
                return Run(r.GetValue(tokenizer)!, r.GetValue(text), r.GetValue(file), r.GetValue(json), r.GetValue(decode), r.GetValue(noSpecial));
            if (r.GetValue(text) != null || r.GetValue(file) != null || r.GetValue(decode))
                throw new UserErrorException("--jsonl replaces --text / --file (use `vlmtune decode --jsonl` to decode)");
            TextBatchCommands.TokenizeJsonl(TextBatchCommands.LoadTokenizer(r.GetValue(tokenizer)!), batch, r.GetValue(output), !r.GetValue(noSpecial));
            return 0;
        });
        return command;
    }

    static int Run(string tokenizerPath, string? text, string? file, bool json, bool decode, bool noSpecial)
    {
        if ((text is null) == (file is null)) throw new UserErrorException("give exactly one of --text and --file");
        var tokenizer = Directory.Exists(tokenizerPath) ? Tokenizer.FromDirectory(tokenizerPath) : Tokenizer.FromFile(tokenizerPath);
        string input = text ?? ReadFile(file!);
        if (decode)
        {
            int[] ids = ParseIds(input, text is null ? file! : "--text", tokenizer.VocabSize);
            Console.WriteLine(tokenizer.Decode(ids, skipSpecialTokens: noSpecial));
            return 0;
        }
        int[] encoded = tokenizer.Encode(input, addSpecialTokens: !noSpecial);
        Console.WriteLine(json ? "[" + string.Join(", ", encoded) + "]" : string.Join(' ', encoded));
        return 0;
    }

    static string ReadFile(string path)
    {
        // Decoded as Python's open(encoding="utf-8") does: a leading U+FEFF is text, not a marker to drop
        // (File.ReadAllText would strip it). Invalid UTF-8 is an error, not U+FFFD.
        try { return new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path)); }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new UserErrorException($"{path}: not UTF-8 text (invalid byte at offset {e.Index})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UserErrorException($"cannot read {path}: {e.Message}");
        }
    }

    static int[] ParseIds(string input, string source, int vocabSize)
    {
        var pieces = input.Split([' ', '\t', '\r', '\n', ',', '[', ']'], StringSplitOptions.RemoveEmptyEntries);
        var ids = new int[pieces.Length];
        for (int i = 0; i < pieces.Length; i++)
        {
            if (!int.TryParse(pieces[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i]) || ids[i] < 0 || ids[i] >= vocabSize)
                throw new UserErrorException($"{source}: item {i + 1} \"{pieces[i]}\" is not a token id (0..{vocabSize - 1})");
        }
        return ids;
    }
}
