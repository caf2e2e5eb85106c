namespace VlmTune.Tensors.Autograd;

/// <summary>
/// Whether ops record the graph (per thread). <c>using var _ = GradMode.NoGrad();</c> turns recording off
/// for a scope: evaluation, reference log-probs, optimiser steps.
/// </summary>
public static class GradMode
{
    [ThreadStatic] static int _disabled;

    public static bool IsEnabled => _disabled == 0;

    [ThreadStatic] static int _probing;
    [ThreadStatic] static bool _sawTrainable;

    /// <summary>
    /// Notes, inside a no-grad scope, whether any op read a tensor that requires a gradient (a trainable leaf or
    /// something computed from one). <see cref="Checkpoint"/> uses it to leave out of the graph a block that holds
    /// nothing trainable. Probes nest: an inner probe's finding also counts for the outer one.
    /// </summary>
    public static Probe TrackTrainableInputs()
    {
        var probe = new Probe(_sawTrainable);
        _probing++;
        _sawTrainable = false;
        return probe;
    }

    internal static void Note(Tensor[] inputs)
    {
        if (_probing == 0 || _sawTrainable) return;
        foreach (var t in inputs)
        {
            if (t.RequiresGrad)
            {
                _sawTrainable = true;
                return;
            }
        }
    }

    public readonly struct Probe : IDisposable
    {
        readonly bool _outer;
        internal Probe(bool outer) => _outer = outer;
        /// <summary>Whether an op since the probe started read a tensor that requires a gradient.</summary>
        public bool SawTrainable => _sawTrainable;
        public void Dispose()
        {
            _probing--;
            _sawTrainable |= _outer;
        }
    }

    public static Scope NoGrad()
    {
        _disabled++;
        return new Scope(-1);
    }

    /// <summary>Re-enables recording inside a no-grad scope (used by checkpoint recomputation).</summary>
    public static Scope Enable()
    {
        int saved = _disabled;
        _disabled = 0;
        return new Scope(saved);
    }

    public readonly struct Scope : IDisposable
    {
        readonly int _restore;
        internal Scope(int restore) => _restore = restore;
        public void Dispose()
        {
            if (_restore < 0) _disabled--;
            else _disabled = _restore;
        }
    }
}
