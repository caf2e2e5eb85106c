using System.Collections;
using System.Text.Json;

namespace VlmTune.Data.Datasets.Parquet;

/// <summary>
/// One parquet row as <c>datasets</c> / TRL write it, turned into what <see cref="RecordParser"/> checks: the text
/// columns (<c>messages</c>, <c>prompt</c>, <c>completion</c>, <c>chosen</c>, <c>rejected</c>) become a JSON record
/// with the same shape as a JSONL line (structs are objects, lists are arrays, nulls are left out), and the image
/// columns (<c>images</c>: list of the Image struct {bytes, path}; or a single <c>image</c>) become
/// <see cref="ImageSource"/>s holding the embedded bytes, or a path resolved as in JSONL when only the path is set.
/// Other columns are ignored.
/// </summary>
internal sealed class ParquetRow(RecordSource source, Dictionary<string, object> row, RecordParser parser)
{
    private static readonly string[] TextColumns = ["messages", "prompt", "completion", "chosen", "rejected"];

    /// <summary>Calls <paramref name="parse"/> with the record and its images (the JSON lives only during the call).</summary>
    public T Parse<T>(Func<JsonElement, List<ImageSource>, T> parse)
    {
        var images = Images();
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (string column in TextColumns)
            {
                if (!row.TryGetValue(column, out var value) || value is null) continue;
                w.WritePropertyName(column);
                Write(w, value, column);
            }
            // Column names only (for the "the record has ..." message); their values are not used.
            foreach (var name in row.Keys.Where(k => !TextColumns.Contains(k)))
                w.WriteNull(name);
            w.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.ToArray());
        return parse(doc.RootElement, images);
    }

    private List<ImageSource> Images()
    {
        var list = new List<ImageSource>();
        if (row.TryGetValue("images", out var images) && images is not null)
        {
            if (images is not IList items || images is byte[] || images is string)
                throw new DatasetRecordException(source, "images", $"expected a list of images, got {Describe(images)}");
            for (int i = 0; i < items.Count; i++) list.Add(Image(items[i], $"images[{i}]"));
        }
        else if (row.TryGetValue("image", out var image) && image is not null)
            list.Add(Image(image, "image"));
        return list;
    }

    /// <summary>The Image feature: {bytes, path} (bytes win), or a bare binary / path string.</summary>
    private ImageSource Image(object? value, string field)
    {
        switch (value)
        {
            case byte[] b:
                return Bytes(b, field);
            case string or ReadOnlyMemory<char>:
                return parser.ResolveImage(value.ToString()!, field);
            case IDictionary<string, object> s:
                if (s.TryGetValue("bytes", out var bytes) && bytes is byte[] raw) return Bytes(raw, field + ".bytes");
                if (s.TryGetValue("path", out var path) && path is not null && path.ToString() is { Length: > 0 } p)
                    return parser.ResolveImage(p, field + ".path");
                throw new DatasetRecordException(source, field, "the image has neither bytes nor a path");
            default:
                throw new DatasetRecordException(source, field, $"expected an image struct {{bytes, path}}, got {Describe(value)}");
        }
    }

    private ImageSource Bytes(byte[] bytes, string field) =>
        bytes.Length > 0 ? ImageSource.FromBytes(source, field, bytes)
            : throw new DatasetRecordException(source, field, "the image bytes are empty");

    private void Write(Utf8JsonWriter w, object? value, string field)
    {
        switch (value)
        {
            case null: w.WriteNullValue(); break;
            case string s: w.WriteStringValue(s); break;
            case ReadOnlyMemory<char> m: w.WriteStringValue(m.Span); break;
            case bool b: w.WriteBooleanValue(b); break;
            case byte[]: throw new DatasetRecordException(source, field, "expected text, got binary data");
            case IDictionary<string, object> d:
                w.WriteStartObject();
                foreach (var (k, v) in d)
                {
                    if (v is null) continue;
                    w.WritePropertyName(k);
                    Write(w, v, $"{field}.{k}");
                }
                w.WriteEndObject();
                break;
            case IEnumerable e:
                w.WriteStartArray();
                int i = 0;
                foreach (var item in e) Write(w, item, $"{field}[{i++}]");
                w.WriteEndArray();
                break;
            case IConvertible c when value is not char:
                w.WriteNumberValue(c.ToDouble(System.Globalization.CultureInfo.InvariantCulture));
                break;
            default:
                w.WriteStringValue(value.ToString());
                break;
        }
    }

    private static string Describe(object? v) => v switch
    {
        null => "null",
        byte[] => "binary data",
        string or ReadOnlyMemory<char> => "a string",
        IDictionary<string, object> => "a struct",
        IEnumerable => "a list",
        _ => v.GetType().Name,
    };
}
