namespace VlmTune.Recipes.Schema;

/// <summary>A range rule on one key's value; <see cref="Doc"/> reads after "must be", e.g. ">= 1".</summary>
internal sealed record Constraint<T>(string Doc, Func<T, bool> Ok);

/// <summary>The range rules the schema table uses.</summary>
internal static class Check
{
    public static Constraint<string> DeviceName { get; } = new("auto, cpu, cuda or cuda:N", v => DeviceSpec.TryParse(v, out _));

    public static Constraint<int> AtLeast(int min) => new($">= {min}", v => v >= min);

    public static Constraint<double> Positive { get; } = new("> 0", v => v > 0);

    public static Constraint<double> NonNegative { get; } = new(">= 0", v => v >= 0);

    public static Constraint<double> UnitInterval { get; } = new("in [0, 1)", v => v >= 0 && v < 1);

    public static Constraint<double> HalfInterval { get; } = new("in [0, 0.5)", v => v >= 0 && v < 0.5);

    public static Constraint<int> PowerOfTwo(int min, int max) =>
        new($"a power of two in {min}..{max}", v => v >= min && v <= max && (v & (v - 1)) == 0);

    public static Constraint<(double, double)> Betas { get; } =
        new("two numbers in [0, 1)", v => v.Item1 >= 0 && v.Item1 < 1 && v.Item2 >= 0 && v.Item2 < 1);

    public static Constraint<ValueList<T>> NonEmptyDistinct<T>() =>
        new("a non-empty list without repeats", v => v.Count > 0 && v.Distinct().Count() == v.Count);

    public static Constraint<ValueList<T>> Distinct<T>() =>
        new("a list without repeats", v => v.Distinct().Count() == v.Count);

    public static Constraint<LoraTargets?> TargetNames { get; } =
        new("a non-empty list without repeats, \"all-linear\" or null",
            v => v is null || v.IsAllLinear || (v.Names.Count > 0 && v.Names.Distinct().Count() == v.Names.Count));
}
