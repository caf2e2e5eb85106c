using System.Text.Json;

namespace VlmTune.Tensors.Tests.Fixtures;

/// <summary>
/// One golden case of tests/fixtures/ops/ops.json (generator: tests/reference/ops/make_op_fixtures.py).
/// <see cref="Inputs"/> are in the order of the PyTorch call. <see cref="GradOutput"/> (gy, shaped like
/// <see cref="Output"/>) is null for the non-differentiable cases (adamw, clip_grad_norm); <see cref="Grads"/> maps an
/// input's full name to d sum(y * gy) / d input, for every F32 input of a differentiable case.
/// </summary>
public sealed record OpCase(
    string Name,
    string Op,
    JsonElement Attrs,
    IReadOnlyList<FixtureTensor> Inputs,
    FixtureTensor Output,
    FixtureTensor? GradOutput,
    IReadOnlyDictionary<string, FixtureTensor> Grads)
{
    /// <summary>
    /// The tensors listed in attrs "outputs", in that order (adamw: p1, p2, p3, exp_avg, exp_avg_sq; clip_grad_norm:
    /// ga_clipped, gb_clipped, total_norm). Empty for the other cases.
    /// </summary>
    public IReadOnlyList<FixtureTensor> Outputs { get; init; } = [];

    /// <summary>The input whose full name is "{Name}/{shortName}" (e.g. "x", "w", "labels").</summary>
    public FixtureTensor Input(string shortName) =>
        Inputs.FirstOrDefault(t => t.Name == $"{Name}/{shortName}")
        ?? throw new OpFixtureException($"case '{Name}' has no input '{shortName}'");

    /// <summary>The gradient of the input "{Name}/{shortName}".</summary>
    public FixtureTensor Grad(string shortName) =>
        Grads.TryGetValue($"{Name}/{shortName}", out var g)
            ? g
            : throw new OpFixtureException($"case '{Name}' has no gradient for input '{shortName}'");

    /// <summary>The tensor of attrs "outputs" whose full name is "{Name}/{shortName}" (e.g. "p2").</summary>
    public FixtureTensor ExtraOutput(string shortName) =>
        Outputs.FirstOrDefault(t => t.Name == $"{Name}/{shortName}")
        ?? throw new OpFixtureException($"case '{Name}' lists no output '{shortName}' in attrs.outputs");

    public override string ToString() => $"{Name} ({Op})";
}
