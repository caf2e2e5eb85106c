namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// A parsed Jinja2 template (the subset Hugging Face chat templates use), configured like transformers'
/// chat-template environment: trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False, sandboxed and
/// immutable, with loop controls ({% break %}/{% continue %}), {% generation %}, tojson(ensure_ascii=False),
/// raise_exception and strftime_now.
/// Parsing is eager: syntax errors surface from <see cref="Parse"/> as <see cref="ChatTemplateSyntaxException"/>.
/// </summary>
public sealed class JinjaTemplate
{
    private readonly SourceText _source;
    private readonly IReadOnlyList<Stmt> _body;

    private JinjaTemplate(SourceText source, IReadOnlyList<Stmt> body)
    {
        _source = source;
        _body = body;
    }

    /// <summary>The clock strftime_now reads; defaults to local time, as Python's datetime.now().</summary>
    public Func<DateTime> Clock { get; init; } = () => DateTime.Now;

    public static JinjaTemplate Parse(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var text = new SourceText(source);
        return new JinjaTemplate(text, Parser.Parse(text));
    }

    /// <summary>Returns a copy that reads <paramref name="clock"/> for strftime_now.</summary>
    public JinjaTemplate WithClock(Func<DateTime> clock) => new(_source, _body) { Clock = clock };

    /// <summary>
    /// Renders with the given variables. Values may be strings, booleans, integers, floating-point numbers, null,
    /// dictionaries (string-keyed or not), lists/arrays/enumerables, <see cref="System.Text.Json.JsonElement"/>,
    /// <see cref="ChatMessage"/> and <see cref="ContentPart"/>; the template sees plain dicts, lists and strings.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, object?> variables)
    {
        ArgumentNullException.ThrowIfNull(variables);
        var globals = new Scope(null);
        foreach (var kv in Globals.Create(Clock)) globals.Set(kv.Key, kv.Value);
        var scope = new Scope(globals);
        try
        {
            foreach (var kv in variables) scope.Set(kv.Key, Values.FromHost(kv.Value));
        }
        catch (TemplateError e)
        {
            throw new ChatTemplateRenderException(e.Message, null, null);
        }
        return Interpreter.Render(_body, _source, scope);
    }
}
