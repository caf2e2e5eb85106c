using System.Text;

namespace VlmTune.Checkpoints.Json;

/// <summary>
/// Compact JSON as Rust's serde_json writes it (the safetensors header): no whitespace, UTF-8 passed through,
/// escapes only for '"', '\\' and control characters (\b \f \n \r \t, others as lower-case \u00xx).
/// </summary>
internal static class SerdeJson
{
    public static void WriteString(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                default:
                    if (c < 0x20) sb.Append("\\u00").Append(((int)c).ToString("x2"));
                    else sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Byte-wise UTF-8 order, as Rust's <c>String::cmp</c>.</summary>
    internal sealed class Utf8Comparer : IComparer<string>
    {
        public static readonly Utf8Comparer Instance = new();

        public int Compare(string? a, string? b) =>
            Encoding.UTF8.GetBytes(a ?? "").AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b ?? ""));
    }
}
