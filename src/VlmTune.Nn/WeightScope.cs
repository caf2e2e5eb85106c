using VlmTune.Tensors;

namespace VlmTune.Nn;

/// <summary>
/// A key prefix over a weight source, in the manner of candle's VarBuilder: <c>scope.Sub("self_attn").Linear("q_proj", ...)</c>
/// reads "…self_attn.q_proj.weight". Every tensor handed out is recorded in <see cref="Parameters"/> under its key,
/// which is how adapters, savers and counters find them.
/// </summary>
public sealed class WeightScope
{
    readonly string _prefix;
    public IWeightSource Source { get; }
    public ParameterSet Parameters { get; }

    public WeightScope(IWeightSource source, ParameterSet parameters, string prefix = "")
    {
        Source = source;
        Parameters = parameters;
        _prefix = prefix;
    }

    public Device Device => Source.Device;
    public string Prefix => _prefix;
    public WeightScope Sub(string name) => new(Source, Parameters, _prefix + name + ".");

    public Tensor Get(string name, Shape shape, bool f32 = false)
    {
        string key = _prefix + name;
        var t = Source.Get(key, shape, f32);
        t.Name = key;
        Parameters.Add(key, t);
        return t;
    }

    public Linear Linear(string name, int inFeatures, int outFeatures, bool bias)
    {
        var s = Sub(name);
        var b = bias ? s.Get("bias", new Shape(outFeatures), f32: true) : null;
        var q = Source.GetQuantized(s.Prefix + "weight", new Shape(outFeatures, inFeatures));
        return q != null ? new Linear(_prefix + name, q, b) : new Linear(_prefix + name, s.Get("weight", new Shape(outFeatures, inFeatures)), b);
    }

    public LayerNorm LayerNorm(string name, int size, float eps)
    {
        var s = Sub(name);
        return new LayerNorm(s.Get("weight", new Shape(size), f32: true), s.Get("bias", new Shape(size), f32: true), eps);
    }

    public RmsNorm RmsNorm(string name, int size, float eps) =>
        new(Sub(name).Get("weight", new Shape(size), f32: true), eps);
}
