namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Jinja's default <c>Undefined</c>: prints as "", is falsy, iterates as empty, has length 0; any attribute, item,
/// arithmetic or call on it fails with the message jinja2 would give ("'x' is undefined",
/// "'dict object' has no attribute 'y'", "list object has no element 5").
/// </summary>
internal sealed class Undefined
{
    private readonly object? _owner;
    private readonly bool _hasOwner;
    private readonly object? _name;
    private readonly string? _hint;

    private Undefined(object? owner, bool hasOwner, object? name, string? hint)
    {
        _owner = owner;
        _hasOwner = hasOwner;
        _name = name;
        _hint = hint;
    }

    /// <summary>A variable that was never defined.</summary>
    public static Undefined Variable(string name) => new(null, false, name, null);

    /// <summary>A missing attribute or item of <paramref name="owner"/>.</summary>
    public static Undefined Member(object? owner, object? name) => new(owner, true, name, null);

    /// <summary>An undefined value with a fixed explanation (e.g. "No first item, sequence was empty.").</summary>
    public static Undefined WithHint(string hint) => new(null, false, null, hint);

    public string Message
    {
        get
        {
            if (_hint is not null) return _hint;
            if (!_hasOwner) return $"{Values.Repr(_name)} is undefined";
            if (_name is not string) return $"{Values.ObjectTypeRepr(_owner)} has no element {Values.Repr(_name)}";
            return $"{Values.Repr(Values.ObjectTypeRepr(_owner))} has no attribute {Values.Repr(_name)}";
        }
    }

    public TemplateError Fail() => new(Message);
}
