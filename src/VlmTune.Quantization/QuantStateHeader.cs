using System.Text.Json;

namespace VlmTune.Quantization;

/// <summary>The non-tensor part of a bitsandbytes QuantState, parsed from the quant_state JSON bytes.</summary>
internal sealed record QuantStateHeader(QuantType Type, int Blocksize, string Dtype, long[] Shape, int? NestedBlocksize, double? NestedOffset)
{
    private static readonly HashSet<string> KnownKeys =
        ["quant_type", "blocksize", "dtype", "shape", "nested_blocksize", "nested_dtype", "nested_offset"];

    public static QuantStateHeader Parse(string key, string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new QuantizationFormatException($"{key}: quant_state is not valid JSON ({e.Message})", e); }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new QuantizationFormatException($"{key}: quant_state JSON is not an object");
            foreach (var p in root.EnumerateObject())
                if (!KnownKeys.Contains(p.Name)) throw new QuantizationFormatException($"{key}: unknown quant_state field \"{p.Name}\"");
            string typeName = Str(root, key, "quant_type");
            QuantType type = typeName switch
            {
                "nf4" => QuantType.Nf4,
                "fp4" => QuantType.Fp4,
                _ => throw new QuantizationFormatException($"{key}: quant_type \"{typeName}\" is not nf4 or fp4"),
            };
            int blocksize = Int(root, key, "blocksize");
            string dtype = Str(root, key, "dtype");
            if (!root.TryGetProperty("shape", out var shapeEl) || shapeEl.ValueKind != JsonValueKind.Array)
                throw new QuantizationFormatException($"{key}: quant_state field \"shape\" is missing or not a list");
            var shape = new List<long>();
            foreach (var d in shapeEl.EnumerateArray())
            {
                if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out long v) || v < 0)
                    throw new QuantizationFormatException($"{key}: shape entry {d} is not a non-negative integer");
                shape.Add(v);
            }
            bool nested = root.TryGetProperty("nested_offset", out var offsetEl);
            int? nestedBlocksize = null;
            double? offset = null;
            if (nested)
            {
                if (offsetEl.ValueKind != JsonValueKind.Number)
                    throw new QuantizationFormatException($"{key}: nested_offset is not a number");
                offset = offsetEl.GetDouble();
                nestedBlocksize = Int(root, key, "nested_blocksize");
                string nestedDtype = Str(root, key, "nested_dtype");
                if (nestedDtype != "float32")
                    throw new QuantizationFormatException($"{key}: nested_dtype \"{nestedDtype}\" is not supported (float32 only)");
            }
            return new QuantStateHeader(type, blocksize, dtype, [.. shape], nestedBlocksize, offset);
        }
    }

    private static string Str(JsonElement root, string key, string field)
        => root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new QuantizationFormatException($"{key}: quant_state field \"{field}\" is missing or not a string");

    private static int Int(JsonElement root, string key, string field)
        => root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i)
            ? i
            : throw new QuantizationFormatException($"{key}: quant_state field \"{field}\" is missing or not an integer");
}
