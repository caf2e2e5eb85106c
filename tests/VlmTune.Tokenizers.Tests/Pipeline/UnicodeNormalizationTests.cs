using VlmTune.Tokenizers.Pipeline;

namespace VlmTune.Tokenizers.Tests.Pipeline;

/// <summary>
/// NFC/NFD on known cases (UAX #15 examples); the whole corpus is covered through gpt2-style's NFC normalizer
/// in <see cref="HfParityTests"/>.
/// </summary>
public sealed class UnicodeNormalizationTests
{
    [Theory]
    [InlineData("e\u0301", "\u00E9")]                     // compose
    [InlineData("\u212B", "\u00C5")]                      // singleton: ANGSTROM SIGN → Å
    [InlineData("\u1E9B\u0323", "\u1E9B\u0323")]          // UAX #15 example: long s with dot above stays
    [InlineData("q\u0307\u0323", "q\u0323\u0307")]        // reordering by combining class, no composite
    [InlineData("a\u0323\u0306", "\u1EB7")]               // ặ via the reordered pair
    [InlineData("\u1100\u1161\u11A8", "\uAC01")]          // Hangul L V T
    [InlineData("\u0344", "\u0308\u0301")]                // non-starter decomposition is never recomposed
    [InlineData("\u0301e", "\u0301e")]                    // leading mark blocks nothing after the starter
    [InlineData("plain ASCII", "plain ASCII")]
    [InlineData("Vie\u0323\u0302t", "Vi\u1EC7t")]
    [InlineData("👍🏽", "👍🏽")]
    public void Nfc(string input, string expected) => Assert.Equal(expected, UnicodeNormalization.Nfc(input));

    [Theory]
    [InlineData("\u00E9", "e\u0301")]
    [InlineData("\uAC01", "\u1100\u1161\u11A8")]
    [InlineData("\u1EB7", "a\u0323\u0306")]
    [InlineData("Å", "A\u030A")]
    public void Nfd(string input, string expected) => Assert.Equal(expected, UnicodeNormalization.Nfd(input));
}
