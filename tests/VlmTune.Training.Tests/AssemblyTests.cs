namespace VlmTune.Training.Tests;

public class AssemblyTests
{
    [Fact]
    public void Assembly_loads() => Assert.NotNull(System.Reflection.Assembly.Load("VlmTune.Training"));
}
