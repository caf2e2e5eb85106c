using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// tokenizer.json <c>normalizer</c>: null, a Unicode normalization form, or a Sequence of them.
/// Other normalizer types are refused at load time.
/// </summary>
internal sealed class Normalizer
{
    private readonly NormalizationForm[] _forms;

    private Normalizer(NormalizationForm[] forms) => _forms = forms;

    /// <summary>True when the normalizer changes nothing (null, or an empty Sequence).</summary>
    public bool IsIdentity => _forms.Length == 0;

    public string Normalize(string s)
    {
        foreach (NormalizationForm f in _forms) s = s.Normalize(f);
        return s;
    }

    public static Normalizer Load(Json? json)
    {
        var forms = new List<NormalizationForm>();
        if (json is Json j) Collect(j, forms);
        return new Normalizer(forms.ToArray());
    }

    private static void Collect(Json json, List<NormalizationForm> forms)
    {
        string type = json.TypeName();
        switch (type)
        {
            case "Sequence":
                foreach (Json item in json.Get("normalizers").Items()) Collect(item, forms);
                return;
            case "NFC": forms.Add(Require(json, NormalizationForm.FormC)); return;
            case "NFD": forms.Add(Require(json, NormalizationForm.FormD)); return;
            case "NFKC": forms.Add(Require(json, NormalizationForm.FormKC)); return;
            case "NFKD": forms.Add(Require(json, NormalizationForm.FormKD)); return;
            default:
                throw json.Error($"normalizer type \"{type}\" is not supported (supported: NFC, NFD, NFKC, NFKD, Sequence, null)");
        }
    }

    /// <summary>
    /// .NET normalizes through ICU; in globalization-invariant mode normalization silently does nothing,
    /// which would give wrong ids. Refuse instead.
    /// </summary>
    private static NormalizationForm Require(Json json, NormalizationForm form)
    {
        string probe = "e\u0301\u1E9B\u0323";
        if (probe.Normalize(NormalizationForm.FormC) == probe)
            throw json.Error($"normalizer {form} needs Unicode normalization data, which this process lacks " +
                "(globalization-invariant mode); run without InvariantGlobalization to load this tokenizer");
        return form;
    }
}
