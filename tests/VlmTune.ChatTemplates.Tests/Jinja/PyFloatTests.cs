using VlmTune.ChatTemplates.Jinja;

namespace VlmTune.ChatTemplates.Tests.Jinja;

/// <summary>Python's repr(float) (values checked with CPython 3.11).</summary>
public class PyFloatTests
{
    [Theory]
    [InlineData(1.0, "1.0")]
    [InlineData(0.1, "0.1")]
    [InlineData(1e-5, "1e-05")]
    [InlineData(0.0001, "0.0001")]
    [InlineData(1e16, "1e+16")]
    [InlineData(1234567890123456.0, "1234567890123456.0")]
    [InlineData(0.30000000000000004, "0.30000000000000004")]
    [InlineData(-2.5, "-2.5")]
    [InlineData(1.5e300, "1.5e+300")]
    [InlineData(123.456e-10, "1.23456e-08")]
    [InlineData(double.NaN, "nan")]
    [InlineData(double.NegativeInfinity, "-inf")]
    public void Matches_python_repr(double value, string expected) => Assert.Equal(expected, PyFloat.Repr(value));
}
