namespace VlmTune.ChatTemplates.Jinja;

/// <summary>Anything a template can call: a global function, a bound method of a value, a macro, loop.cycle.</summary>
internal sealed class Callable
{
    public Callable(string name, Func<Arguments, object?> invoke)
    {
        Name = name;
        Invoke = invoke;
    }

    public string Name { get; }

    public Func<Arguments, object?> Invoke { get; }
}
