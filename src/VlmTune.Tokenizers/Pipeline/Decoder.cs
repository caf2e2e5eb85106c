using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// tokenizer.json <c>decoder</c>: ByteLevel (stand-in characters back to bytes, then UTF-8 with U+FFFD for invalid
/// sequences, like Rust's <c>String::from_utf8_lossy</c>) or null (tokens joined with a space, as HF does).
/// </summary>
internal sealed class Decoder
{
    private readonly bool _byteLevel;

    private Decoder(bool byteLevel) => _byteLevel = byteLevel;

    public static Decoder Load(Json? json)
    {
        if (json is not Json j) return new Decoder(false);
        string type = j.TypeName();
        if (type == "ByteLevel") return new Decoder(true);
        throw j.Error($"decoder type \"{type}\" is not supported (supported: ByteLevel, null)");
    }

    public string Decode(List<string> tokens)
    {
        if (!_byteLevel) return string.Join(' ', tokens);
        var bytes = new List<byte>();
        foreach (string token in tokens)
        {
            // A token whose characters are all byte stand-ins decodes to those bytes; any other token
            // (an added token such as "<image>" with a plain space) contributes its own UTF-8 bytes.
            bool allMapped = true;
            foreach (char c in token)
            {
                if (ByteLevelAlphabet.ByteOf(c) < 0)
                {
                    allMapped = false;
                    break;
                }
            }
            if (allMapped)
            {
                foreach (char c in token) bytes.Add((byte)ByteLevelAlphabet.ByteOf(c));
            }
            else
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }
        return Encoding.UTF8.GetString(bytes.ToArray());
    }
}
