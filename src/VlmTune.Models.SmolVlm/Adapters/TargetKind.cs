namespace VlmTune.Models.SmolVlm.Adapters;

/// <summary>The three forms of PEFT's target_modules.</summary>
public enum TargetKind : byte
{
    /// <summary>A list: a module matches when its path equals a name or ends with "." + name.</summary>
    Names,
    /// <summary>A string: a module matches when the regex matches its whole path (Python re.fullmatch).</summary>
    Regex,
    /// <summary>"all-linear": every linear layer except the output embedding (lm_head), vision tower included.</summary>
    AllLinear,
}
