using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>One of a fixed set of lower-case names, mapped explicitly (no reflection, trimming-safe).</summary>
internal sealed class EnumValue<TEnum>(params (string Name, TEnum Value)[] names) : ValueType<TEnum>
    where TEnum : struct, Enum
{
    public override string Doc => string.Join(" | ", names.Select(n => n.Name));

    public override TEnum Read(YamlNode node, ReadContext ctx)
    {
        if (node is YamlScalarNode s && !YamlText.IsNull(node))
            foreach (var (name, value) in names)
                if (s.Value == name) return value;
        throw ctx.Fail(node, $"expected one of {string.Join(", ", names.Select(n => n.Name))}, got {YamlText.Describe(node)}");
    }

    public override string Write(TEnum value)
    {
        foreach (var (name, v) in names)
            if (EqualityComparer<TEnum>.Default.Equals(v, value)) return name;
        throw new ArgumentOutOfRangeException(nameof(value), value, $"no YAML name for {typeof(TEnum).Name}.{value}");
    }
}
