namespace VlmTune.Recipes;

/// <summary>What to do with a record longer than <c>data.max_length</c> (YAML <c>data.overflow</c>). Never truncate.</summary>
public enum OverflowPolicy
{
    /// <summary><c>error</c>: stop before training and name the record.</summary>
    Error,
    /// <summary><c>drop</c>: leave the record out and count it in the data report.</summary>
    Drop,
    /// <summary><c>shrink-images</c> (the same spelling in recipes and on the command line): lower the image resolution until the record fits, else error.</summary>
    ShrinkImages,
}
