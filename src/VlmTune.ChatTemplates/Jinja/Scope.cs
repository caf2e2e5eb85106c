namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// A variable frame. As in jinja2, each for-loop iteration, macro call, with-block and call/generation body gets a
/// child frame: <c>{% set %}</c> inside them does not leak out (which is why templates use <c>namespace()</c>),
/// while reads fall through to the enclosing frames. if-blocks share their parent's frame.
/// </summary>
internal sealed class Scope
{
    private readonly Dictionary<string, object?> _vars = new(StringComparer.Ordinal);
    private readonly Scope? _parent;

    public Scope(Scope? parent) => _parent = parent;

    public bool TryGet(string name, out object? value)
    {
        for (var s = this; s is not null; s = s._parent)
            if (s._vars.TryGetValue(name, out value)) return true;
        value = null;
        return false;
    }

    public void Set(string name, object? value) => _vars[name] = value;
}
