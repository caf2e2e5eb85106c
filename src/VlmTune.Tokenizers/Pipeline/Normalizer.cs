namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// tokenizer.json <c>normalizer</c>: null, NFC, NFD, or a Sequence of them (VlmTune carries canonical
/// normalization tables, see <see cref="UnicodeNormalization"/>). Other normalizer types, including the
/// compatibility forms NFKC/NFKD, are refused at load time.
/// </summary>
internal sealed class Normalizer
{
    private enum Form { Nfc, Nfd }

    private readonly Form[] _forms;

    private Normalizer(Form[] forms) => _forms = forms;

    /// <summary>True when the normalizer changes nothing (null, or an empty Sequence).</summary>
    public bool IsIdentity => _forms.Length == 0;

    public string Normalize(string s)
    {
        foreach (Form f in _forms) s = f == Form.Nfc ? UnicodeNormalization.Nfc(s) : UnicodeNormalization.Nfd(s);
        return s;
    }

    public static Normalizer Load(Json? json)
    {
        var forms = new List<Form>();
        if (json is Json j) Collect(j, forms);
        return new Normalizer(forms.ToArray());
    }

    private static void Collect(Json json, List<Form> forms)
    {
        string type = json.TypeName();
        switch (type)
        {
            case "Sequence":
                foreach (Json item in json.Get("normalizers").Items()) Collect(item, forms);
                return;
            case "NFC": forms.Add(Form.Nfc); return;
            case "NFD": forms.Add(Form.Nfd); return;
            default:
                throw json.Error($"normalizer type \"{type}\" is not supported (supported: NFC, NFD, Sequence, null)");
        }
    }
}
