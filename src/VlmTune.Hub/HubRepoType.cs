namespace VlmTune.Hub;

/// <summary>The kind of a Hub repository; decides the cache folder prefix and the URL shape.</summary>
public enum HubRepoType
{
    Model,
    Dataset,
}
