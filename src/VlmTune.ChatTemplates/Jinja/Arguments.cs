namespace VlmTune.ChatTemplates.Jinja;

/// <summary>The evaluated arguments of a call, filter or test: positional values then keyword values.</summary>
internal sealed class Arguments
{
    public static readonly Arguments None = new(Array.Empty<object?>(), Array.Empty<KeyValuePair<string, object?>>());

    public Arguments(IReadOnlyList<object?> positional, IReadOnlyList<KeyValuePair<string, object?>> keywords)
    {
        Positional = positional;
        Keywords = keywords;
    }

    public IReadOnlyList<object?> Positional { get; }

    public IReadOnlyList<KeyValuePair<string, object?>> Keywords { get; }

    /// <summary>Argument <paramref name="index"/> (positional) or <paramref name="name"/> (keyword), else <paramref name="fallback"/>.</summary>
    public object? Get(int index, string name, object? fallback = null)
    {
        if (index >= 0 && index < Positional.Count) return Positional[index];
        foreach (var kv in Keywords)
            if (kv.Key == name) return kv.Value;
        return fallback;
    }

    public bool Has(int index, string name)
    {
        if (index >= 0 && index < Positional.Count) return true;
        foreach (var kv in Keywords)
            if (kv.Key == name) return true;
        return false;
    }

    /// <summary>Rejects extra positional arguments and unknown keywords, as Python would with a TypeError.</summary>
    public Arguments Check(string function, params string[] parameterNames)
    {
        if (Positional.Count > parameterNames.Length)
            throw new TemplateError($"{function}() takes at most {parameterNames.Length} argument(s) ({Positional.Count} given)");
        foreach (var kv in Keywords)
            if (Array.IndexOf(parameterNames, kv.Key) < 0)
                throw new TemplateError($"{function}() got an unexpected keyword argument '{kv.Key}'");
        return this;
    }
}
