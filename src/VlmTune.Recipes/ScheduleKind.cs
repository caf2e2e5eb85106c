namespace VlmTune.Recipes;

/// <summary>Learning-rate shape after warm-up (YAML <c>train.schedule</c>).</summary>
public enum ScheduleKind
{
    /// <summary><c>constant</c>.</summary>
    Constant,
    /// <summary><c>linear</c>: decays to 0 at the last step (HF Trainer default).</summary>
    Linear,
    /// <summary><c>cosine</c>: half cosine to 0 at the last step.</summary>
    Cosine,
}
