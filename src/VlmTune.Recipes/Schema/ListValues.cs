using YamlDotNet.RepresentationModel;

namespace VlmTune.Recipes.Schema;

/// <summary>A YAML sequence (block or flow, e.g. [q_proj, v_proj]) of one item type.</summary>
internal sealed class ListValue<T>(ValueType<T> item) : ValueType<ValueList<T>>
{
    public override string Doc => $"list of {item.Doc}";

    public override ValueList<T> Read(YamlNode node, ReadContext ctx)
    {
        if (node is not YamlSequenceNode seq)
            throw ctx.Fail(node, $"expected a list such as [a, b], got {YamlText.Describe(node)}");
        return new ValueList<T>(seq.Children.Select(child => item.Read(child, ctx)).ToList());
    }

    public override string Write(ValueList<T> value) => "[" + string.Join(", ", value.Select(item.Write)) + "]";
}

/// <summary>[beta1, beta2]: exactly two numbers.</summary>
internal sealed class PairValue : ValueType<(double, double)>
{
    public static PairValue Instance { get; } = new();

    public override string Doc => "[number, number]";

    public override (double, double) Read(YamlNode node, ReadContext ctx)
    {
        if (node is YamlSequenceNode { Children.Count: 2 } seq)
            return (DoubleValue.Instance.Read(seq.Children[0], ctx), DoubleValue.Instance.Read(seq.Children[1], ctx));
        throw ctx.Fail(node, $"expected two numbers such as [0.9, 0.999], got {YamlText.Describe(node)}");
    }

    public override string Write((double, double) value) =>
        $"[{YamlText.FormatDouble(value.Item1)}, {YamlText.FormatDouble(value.Item2)}]";
}

/// <summary>lora.targets: a list of module names, the string all-linear, or null (when targets_regex is used).</summary>
internal sealed class TargetsValue : ValueType<LoraTargets?>
{
    public static TargetsValue Instance { get; } = new();

    static readonly ListValue<string> Names = new(TextValue.Instance);

    public override string Doc => "list of module names | all-linear | null";

    public override LoraTargets? Read(YamlNode node, ReadContext ctx)
    {
        if (YamlText.IsNull(node)) return null;
        if (node is YamlScalarNode s)
            return s.Value == LoraTargets.AllLinearName
                ? LoraTargets.AllLinear
                : throw ctx.Fail(node, $"expected a list of module names or \"all-linear\", got {YamlText.Describe(node)}" +
                                       $" (write [{s.Value}] for one name)");
        return LoraTargets.Of([.. Names.Read(node, ctx)]);
    }

    public override string Write(LoraTargets? value) =>
        value == null ? "null" : value.IsAllLinear ? LoraTargets.AllLinearName : "[" + string.Join(", ", value.Names.Select(YamlText.Quote)) + "]";
}
