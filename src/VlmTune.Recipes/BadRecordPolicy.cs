namespace VlmTune.Recipes;

/// <summary>What to do with a malformed data record (YAML <c>data.on_bad_record</c>).</summary>
public enum BadRecordPolicy
{
    /// <summary><c>error</c>: stop and name the file, line and field.</summary>
    Error,
    /// <summary><c>skip</c>: leave the record out and count it in the data report.</summary>
    Skip,
}
