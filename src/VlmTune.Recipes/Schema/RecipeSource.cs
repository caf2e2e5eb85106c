using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>
/// The raw values of one load: the YAML node set for each key, from the recipe file and then from
/// <c>--set</c> overrides (a later source wins), with where each came from. Structure errors (bad YAML,
/// unknown keys, a section that is not a mapping, a malformed override) are thrown while collecting.
/// </summary>
internal sealed partial class RecipeSource
{
    readonly string _file;
    readonly string _recipeFolder;
    readonly string _workingDirectory;
    readonly YamlNode _root;
    readonly Dictionary<string, (YamlNode Node, ReadContext Ctx)> _values = [];
    readonly Dictionary<string, YamlNode> _sectionKeys = [];    // section name → its key node in the file
    readonly HashSet<string> _overriddenSections = [];

    RecipeSource(string file, string recipeFolder, string workingDirectory, YamlNode root)
    {
        _file = file;
        _recipeFolder = recipeFolder;
        _workingDirectory = workingDirectory;
        _root = root;
    }

    /// <summary>Reads <paramref name="yaml"/> (named <paramref name="file"/> in messages), then applies the overrides.</summary>
    public static RecipeSource Collect(string yaml, string file, IReadOnlyList<string> overrides, string workingDirectory)
    {
        string folder = Path.GetDirectoryName(Path.GetFullPath(file, workingDirectory)) ?? workingDirectory;
        var root = ReadRoot(yaml, file);
        var source = new RecipeSource(file, folder, workingDirectory, root);
        source.CollectFile((YamlMappingNode)root);
        foreach (string o in overrides) source.CollectOverride(o);
        return source;
    }

    /// <summary>The keys that were set, with their nodes and contexts, in schema order.</summary>
    public IEnumerable<(SchemaKey Key, YamlNode Node, ReadContext Ctx)> SetKeys =>
        RecipeSchema.Keys.Where(k => _values.ContainsKey(k.Path)).Select(k => (k, _values[k.Path].Node, _values[k.Path].Ctx));

    public bool IsSet(string path) => _values.ContainsKey(path);

    /// <summary>The section appears in the file (even empty) or one of its keys is overridden.</summary>
    public bool HasSection(string name) => _sectionKeys.ContainsKey(name) || _overriddenSections.Contains(name);

    /// <summary>
    /// An error about <paramref name="key"/>: at its value when it was set, else at its section's key in the file,
    /// else at the top of the file.
    /// </summary>
    public RecipeException Error(string key, string reason)
    {
        if (_values.TryGetValue(key, out var v)) return v.Ctx.Fail(v.Node, reason);
        string section = key.Contains('.') ? key[..key.IndexOf('.')] : key;
        var at = _sectionKeys.GetValueOrDefault(section) ?? _root;
        return RecipeException.InFile(_file, (int)at.Start.Line, (int)at.Start.Column, key, reason);
    }

    static YamlNode ReadRoot(string yaml, string file)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw RecipeException.InFile(file, (int)e.Start.Line, (int)e.Start.Column, null, "invalid YAML: " + BareMessage(e));
        }
        catch (InvalidOperationException e)    // YamlDotNet 16 throws this for some unterminated flow collections
        {
            throw new RecipeException($"{file}: invalid YAML (an unclosed [ or {{?): {e.Message}");
        }
        if (stream.Documents.Count == 0 || YamlText.IsNull(stream.Documents[0].RootNode))
            throw RecipeException.InFile(file, 1, 1, null, "the recipe is empty");
        if (stream.Documents.Count > 1)
        {
            var second = stream.Documents[1].RootNode;
            throw RecipeException.InFile(file, (int)second.Start.Line, (int)second.Start.Column, null, "a recipe is one YAML document; found another");
        }
        var root = stream.Documents[0].RootNode;
        if (root is not YamlMappingNode)
            throw RecipeException.InFile(file, (int)root.Start.Line, (int)root.Start.Column, null,
                $"expected a mapping of keys (kind, seed, {string.Join(", ", RecipeSchema.Sections)}), got {YamlText.Describe(root)}");
        return root;
    }

    void CollectFile(YamlMappingNode root)
    {
        foreach (var (keyNode, valueNode) in root.Children)
        {
            string name = KeyName(keyNode, "");
            if (RecipeSchema.IsSection(name))
            {
                _sectionKeys[name] = keyNode;
                CollectSection(name, valueNode);
            }
            else if (RecipeSchema.Find(name) is { Section: "" })
                _values[name] = (valueNode, FileContext(name));
            else
                throw FileError(keyNode, name, KeySuggester.UnknownKeyReason(name));
        }
    }

    void CollectSection(string section, YamlNode node)
    {
        if (YamlText.IsNull(node)) return;    // "lora:" with nothing under it: present, all defaults
        if (node is not YamlMappingNode map)
            throw FileError(node, section, $"expected a mapping of {section} keys, got {YamlText.Describe(node)}");
        foreach (var (keyNode, valueNode) in map.Children)
        {
            string path = section + "." + KeyName(keyNode, section + ".");
            if (RecipeSchema.Find(path) == null) throw FileError(keyNode, path, KeySuggester.UnknownKeyReason(path));
            _values[path] = (valueNode, FileContext(path));
        }
    }

    void CollectOverride(string text)
    {
        int eq = text.IndexOf('=');
        string key = (eq < 0 ? text : text[..eq]).Trim();
        if (eq < 0) throw RecipeException.InOverride(key, "expected key=value, e.g. --set lora.r=16");
        if (key.Length == 0) throw RecipeException.InOverride(key, "the key before '=' is empty");
        if (RecipeSchema.IsSection(key))
            throw RecipeException.InOverride(key, $"{key} is a section; set one of its keys, e.g. --set {RecipeSchema.Keys.First(k => k.Section == key).Path}=...");
        if (RecipeSchema.Find(key) == null) throw RecipeException.InOverride(key, KeySuggester.UnknownKeyReason(key));

        string valueText = text[(eq + 1)..];
        YamlNode node;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(valueText));
            node = stream.Documents.Count == 0 ? new YamlScalarNode(null) : stream.Documents[0].RootNode;
        }
        catch (Exception e) when (e is YamlException or InvalidOperationException)
        {
            throw RecipeException.InOverride(key, $"cannot read {YamlText.Quote(valueText)} as a YAML value ({(e is YamlException y ? BareMessage(y) : e.Message)}); quote it if it is a string");
        }
        _values[key] = (node, new ReadContext(key, null, _workingDirectory, _workingDirectory));
        if (key.Contains('.')) _overriddenSections.Add(key[..key.IndexOf('.')]);
    }

    string KeyName(YamlNode keyNode, string prefix) =>
        keyNode is YamlScalarNode { Value: { Length: > 0 } v }
            ? v
            : throw FileError(keyNode, prefix.TrimEnd('.') is { Length: > 0 } p ? p : null, $"expected a plain key name, got {YamlText.Describe(keyNode)}");

    ReadContext FileContext(string path) => new(path, _file, _recipeFolder, _workingDirectory);

    RecipeException FileError(YamlNode at, string? key, string reason) =>
        RecipeException.InFile(_file, (int)at.Start.Line, (int)at.Start.Column, key, reason);

    /// <summary>YamlDotNet's message without its "(Line: 3, Col: 5, Idx: 20) - (...): " prefix.</summary>
    static string BareMessage(YamlException e) => LocationPrefix().Replace(e.Message, "");

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\): ")]
    private static partial Regex LocationPrefix();
}
