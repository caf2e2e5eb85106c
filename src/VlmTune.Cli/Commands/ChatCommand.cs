using System.CommandLine;
using VlmTune.ChatTemplates;
using VlmTune.Data;
using VlmTune.Images;
using VlmTune.Processing;
using VlmTune.Models.SmolVlm;

namespace VlmTune.Cli.Commands;

/// <summary>
/// `vlmtune chat --model M [--adapter A [--base as-trained|original]] [--system TEXT] [--max-new-tokens N]
/// [--temperature T] [--top-p P] [--seed S]`: a multi-turn REPL on stdin. Each line is a user turn, rendered with the
/// whole conversation through the chat template (add_generation_prompt); the reply streams token by token to stdout
/// and joins the history. Commands: /image PATH (attach an image to the next user turn; repeatable), /system TEXT
/// (set the system message), /reset (forget the conversation and pending images), /quit (or end of input).
/// </summary>
public static class ChatCommand
{
    const string Help = "commands: /image PATH, /system TEXT, /reset, /quit";

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model checkpoint folder (weights, tokenizer, chat template, processor).", Required = true };
        var adapter = AdaptedModelOptions.CreateAdapter();
        var baseChoice = AdaptedModelOptions.CreateBase();
        var system = new Option<string?>("--system") { Description = "The initial system message." };
        var maxNew = new Option<int>("--max-new-tokens") { Description = "Most tokens per reply.", DefaultValueFactory = _ => 256 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature; 0 = greedy.", DefaultValueFactory = _ => 0f };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass (with a temperature > 0).", DefaultValueFactory = _ => 1f };
        var seed = new Option<ulong>("--seed") { Description = "Sampling seed (each reply uses seed + turn number).", DefaultValueFactory = _ => 0 };
        var device = DeviceSelection.CreateOption();
        var nonRgb = ImageOptions.CreateNonRgbImages();
        var command = new Command("chat", "Talk to a model (and adapter) turn by turn; " + Help + ".");
        foreach (var o in new Option[] { model, adapter, baseChoice, system, maxNew, temperature, topP, seed, device, nonRgb }) command.Options.Add(o);
        command.SetAction(r =>
        {
            var options = new GenerationOptions { MaxNewTokens = r.GetValue(maxNew), Temperature = r.GetValue(temperature), TopP = r.GetValue(topP), Seed = r.GetValue(seed) };
            GenerateCommand.CheckOptions(options);
            string modelDir = r.GetValue(model)!;
            var processor = AdaptedModelOptions.Processor(modelDir, r.GetValue(adapter), r.GetValue(nonRgb));
            var dev = DeviceSelection.Resolve(r.GetValue(device), null, m => Console.Error.WriteLine(m), m => Console.Error.WriteLine($"warning: {m}"));
            var (net, _) = AdaptedModelOptions.Load(modelDir, r.GetValue(adapter), r.GetValue(baseChoice)!, dev);
            Loop(net, processor, r.GetValue(system), options with { StopTokenIds = [processor.TokenIds.EndOfUtterance] }, Console.In, Console.Out);
            return 0;
        });
        return command;
    }

    static void Loop(SmolVlmModel net, SmolVlmProcessor processor, string? system, GenerationOptions options, TextReader input, TextWriter output)
    {
        var history = new List<ChatMessage>();
        var images = new List<DecodedImage>();   // every image of the conversation, in order
        var pending = new List<DecodedImage>();  // attached to the next user turn
        bool interactive = !Console.IsInputRedirected;
        Console.Error.WriteLine($"chat: {Help}");
        int turn = 0;
        while (true)
        {
            if (interactive) { output.Write("> "); output.Flush(); }
            string? line = input.ReadLine();
            if (line == null) break;
            line = line.Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('/'))
            {
                int space = line.IndexOf(' ');
                string verb = space < 0 ? line : line[..space], arg = space < 0 ? "" : line[(space + 1)..].Trim();
                switch (verb)
                {
                    case "/quit" or "/exit":
                        return;
                    case "/reset":
                        history.Clear(); images.Clear(); pending.Clear();
                        Console.Error.WriteLine("chat: conversation reset");
                        break;
                    case "/system":
                        system = arg.Length == 0 ? null : arg;
                        Console.Error.WriteLine(system == null ? "chat: system message cleared" : "chat: system message set");
                        break;
                    case "/image":
                        if (arg.Length == 0) { Console.Error.WriteLine("chat: /image needs a path"); break; }
                        if (!File.Exists(arg)) { Console.Error.WriteLine($"chat: {arg}: image not found"); break; }
                        try
                        {
                            var opened = ImageOptions.Open(arg);
                            processor.ImageProcessor.Tile(opened);   // refused here, not at the next turn
                            pending.Add(opened);
                        }
                        catch (Exception e) when (e is ImageFormatException or UnsupportedImageException)
                        {
                            Console.Error.WriteLine($"chat: {arg}: {e.Message}");
                            break;
                        }
                        Console.Error.WriteLine($"chat: image {images.Count + pending.Count} attached to the next turn");
                        break;
                    default:
                        Console.Error.WriteLine($"chat: unknown command {verb} ({Help})");
                        break;
                }
                continue;
            }
            var user = GenerateCommand.UserTurn(line, pending.Count);
            var messages = new List<ChatMessage>();
            if (system != null) messages.Add(new ChatMessage("system", [ContentPart.FromText(system)]));
            messages.AddRange(history);
            messages.Add(user);
            var allImages = images.Concat(pending).ToList();
            var inputs = GenerateCommand.FromConversation(processor, messages, allImages);
            var ids = new List<int>();
            string shown = "";
            Generator.Generate(net, inputs, options with
            {
                Seed = options.Seed + (ulong)turn,
                OnToken = t =>
                {
                    if (t == processor.TokenIds.EndOfUtterance) return;
                    ids.Add((int)t);
                    string text = processor.Tokenizer.Decode(ids.ToArray());
                    // Print only settled text: a multi-byte character split across tokens decodes to U+FFFD until complete.
                    if (text.StartsWith(shown, StringComparison.Ordinal) && !text.EndsWith('\uFFFD'))
                    {
                        output.Write(text[shown.Length..]);
                        output.Flush();
                        shown = text;
                    }
                },
            });
            string reply = processor.Tokenizer.Decode(ids.ToArray());
            if (reply.StartsWith(shown, StringComparison.Ordinal)) output.Write(reply[shown.Length..]);
            output.WriteLine();
            output.Flush();
            history.Add(user);
            history.Add(new ChatMessage("assistant", [ContentPart.FromText(reply.Trim())]));
            images.AddRange(pending);
            pending.Clear();
            turn++;
        }
    }
}
