namespace VlmTune.Recipes;

/// <summary>How the trainer shows progress (YAML <c>logging.progress</c>).</summary>
public enum ProgressMode
{
    /// <summary><c>auto</c>: a live bar on a terminal, plain lines otherwise.</summary>
    Auto,
    /// <summary><c>plain</c>: one line per logged step.</summary>
    Plain,
    /// <summary><c>none</c>: metrics go to the run log only.</summary>
    None,
}
