namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// tokenizer.json <c>post_processor</c> for single sequences: TemplateProcessing (adds the template's special
/// tokens around the sequence when add_special_tokens is true), ByteLevel (offsets only: ids unchanged),
/// Sequence of those, or null. Other types are refused at load time.
/// </summary>
internal sealed class PostProcessor
{
    /// <summary>Template for a single sequence: fixed ids before and after it.</summary>
    private readonly int[] _prefix;
    private readonly int[] _suffix;

    private PostProcessor(int[] prefix, int[] suffix, bool trimsOffsets)
    {
        _prefix = prefix;
        _suffix = suffix;
        TrimsOffsets = trimsOffsets;
    }

    /// <summary>A ByteLevel step with trim_offsets=true (narrows spans to exclude whitespace; not implemented).</summary>
    public bool TrimsOffsets { get; }

    public int AddedCount => _prefix.Length + _suffix.Length;

    /// <summary>Number of template ids placed before the sequence.</summary>
    public int PrefixCount => _prefix.Length;

    public int[] Apply(List<int> ids, bool addSpecialTokens)
    {
        if (!addSpecialTokens || AddedCount == 0) return ids.ToArray();
        var result = new int[_prefix.Length + ids.Count + _suffix.Length];
        _prefix.CopyTo(result, 0);
        ids.CopyTo(result, _prefix.Length);
        _suffix.CopyTo(result, _prefix.Length + ids.Count);
        return result;
    }

    public static PostProcessor Load(Json? json)
    {
        var prefix = new List<int>();
        var suffix = new List<int>();
        bool trims = false;
        if (json is Json j) Collect(j, prefix, suffix, ref trims);
        return new PostProcessor(prefix.ToArray(), suffix.ToArray(), trims);
    }

    private static void Collect(Json json, List<int> prefix, List<int> suffix, ref bool trimsOffsets)
    {
        string type = json.TypeName();
        switch (type)
        {
            case "Sequence":
                foreach (Json item in json.Get("processors").Items()) Collect(item, prefix, suffix, ref trimsOffsets);
                return;
            case "ByteLevel":
                trimsOffsets |= json.BoolOr("trim_offsets", true);
                return;
            case "TemplateProcessing":
                LoadTemplate(json, prefix, suffix);
                return;
            default:
                throw json.Error($"post_processor type \"{type}\" is not supported (supported: TemplateProcessing, ByteLevel, Sequence, null)");
        }
    }

    /// <summary>
    /// <c>single</c> is a list of <c>{"SpecialToken": {"id": name}}</c> and exactly one <c>{"Sequence": {"id": "A"}}</c>;
    /// each special name maps to its ids in <c>special_tokens</c>. A Sequence processor applies templates in order,
    /// so a second template wraps the output of the first.
    /// </summary>
    private static void LoadTemplate(Json json, List<int> prefix, List<int> suffix)
    {
        var specials = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var (name, value) in json.Get("special_tokens").Members())
            specials[name] = value.Get("ids").Items().Select(x => x.Id()).ToArray();

        var before = new List<int>();
        var after = new List<int>();
        bool seenSequence = false;
        foreach (Json piece in json.Get("single").Items())
        {
            if (piece.Optional("Sequence") is Json seq)
            {
                if (seenSequence) throw seq.Error("a single-sequence template may contain only one Sequence");
                string id = seq.Get("id").String();
                if (id != "A") throw seq.Get("id").Error($"single-sequence template refers to sequence \"{id}\"; expected \"A\"");
                seenSequence = true;
            }
            else if (piece.Optional("SpecialToken") is Json special)
            {
                Json idField = special.Get("id");
                string name = idField.String();
                if (!specials.TryGetValue(name, out int[]? ids))
                    throw idField.Error($"special token \"{name}\" is not listed in special_tokens");
                (seenSequence ? after : before).AddRange(ids);
            }
            else
            {
                throw piece.Error("expected {\"SpecialToken\": ...} or {\"Sequence\": ...}");
            }
        }
        if (!seenSequence) throw json.Get("single").Error("the template has no Sequence \"A\"");
        prefix.InsertRange(0, before);
        suffix.AddRange(after);
    }
}
