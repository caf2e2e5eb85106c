namespace VlmTune.Data.Tests;

public class ProjectTests
{
    [Fact]
    public void Data_assembly_loads() => Assert.NotNull(typeof(VlmTune.Data.DataAssembly).Assembly);
}
