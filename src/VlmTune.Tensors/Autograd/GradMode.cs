namespace VlmTune.Tensors.Autograd;

/// <summary>
/// Whether ops record the graph (per thread). <c>using var _ = GradMode.NoGrad();</c> turns recording off
/// for a scope: evaluation, reference log-probs, optimiser steps.
/// </summary>
public static class GradMode
{
    [ThreadStatic] static int _disabled;

    public static bool IsEnabled => _disabled == 0;

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
