using System.Globalization;
using System.Text;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>Scalar helpers shared by the reader and the writer (YAML 1.2 core schema, strictly).</summary>
internal static class YamlText
{
    /// <summary>A plain (unquoted, untagged) scalar: the only kind that may be a number, bool or null.</summary>
    public static bool IsPlain(YamlScalarNode s) =>
        s.Style is ScalarStyle.Plain or ScalarStyle.Any && (s.Tag.IsEmpty || s.Tag.Value == "?");

    /// <summary>null, ~, Null, NULL or nothing at all, unquoted.</summary>
    public static bool IsNull(YamlNode node) =>
        node is YamlScalarNode s && IsPlain(s) && s.Value is null or "" or "~" or "null" or "Null" or "NULL";

    /// <summary>How a wrong value reads in a message: <c>"eight"</c>, <c>null</c>, <c>a list</c>, <c>a mapping</c>.</summary>
    public static string Describe(YamlNode node) => node switch
    {
        _ when IsNull(node) => "null",
        YamlScalarNode s when !IsPlain(s) => Quote(s.Value ?? "") + " (quoted, so a string)",
        YamlScalarNode s => Quote(s.Value ?? ""),
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "an alias",
    };

    /// <summary>A double-quoted YAML string (escapes backslash, quote and control characters).</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append(@"\n"); break;
                case '\t': sb.Append(@"\t"); break;
                case '\r': sb.Append(@"\r"); break;
                default:
                    if (char.IsControl(c)) sb.Append(@"\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>A double that reads back bit for bit and always looks like a float (1.0, 0.0001, 1E-08).</summary>
    public static string FormatDouble(double d)
    {
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.Contains('.') || s.Contains('E') ? s : s + ".0";
    }

    public static string FormatInt(int i) => i.ToString(CultureInfo.InvariantCulture);
}
