using System.Text;

namespace VlmTune.Tokenizers.Pipeline;

/// <summary>
/// Canonical Unicode normalization (NFD, NFC) from <see cref="NfcData"/>, because .NET's
/// <c>string.Normalize</c> does nothing in globalization-invariant mode. Algorithm of UAX #15:
/// full canonical decomposition (Hangul algorithmically), canonical ordering of combining marks by class,
/// then (NFC) composition of each unblocked mark with the last starter.
/// </summary>
internal static class UnicodeNormalization
{
    private const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7;
    private const int LCount = 19, VCount = 21, TCount = 28, NCount = VCount * TCount, SCount = LCount * NCount;

    private static readonly Dictionary<int, int> Classes = BuildClasses();
    private static readonly Dictionary<int, int[]> Decompositions = BuildDecompositions();
    private static readonly Dictionary<long, int> Compositions = BuildCompositions();
    private static readonly HashSet<int> NotNfcSafe = BuildNotNfcSafe();
    private static readonly bool[] NotNfcSafeBmp = BuildBmpFlags();

    public static string Nfc(string s) => IsNfcSafe(s) ? s : Normalize(s, compose: true);

    public static string Nfd(string s) => Normalize(s, compose: false);

    private static string Normalize(string s, bool compose)
    {
        // Below U+0300 there are no combining marks; for NFC there is nothing to decompose either.
        int firstInteresting = 0;
        int limit = compose ? 0x300 : 0xC0;
        while (firstInteresting < s.Length && s[firstInteresting] < limit) firstInteresting++;
        if (firstInteresting == s.Length) return s;

        var cps = new List<int>(s.Length + 8);
        foreach (Rune r in s.EnumerateRunes()) Decompose(r.Value, cps);
        Reorder(cps);
        if (compose) Compose(cps);

        var sb = new StringBuilder(cps.Count + 8);
        foreach (int cp in cps) sb.Append(char.ConvertFromUtf32(cp));
        return sb.ToString();
    }

    /// <summary>
    /// Quick check: a string made only of starters that never decompose-and-stay-decomposed and never combine
    /// with a preceding character is already in NFC.
    /// </summary>
    private static bool IsNfcSafe(string s)
    {
        foreach (char c in s)
        {
            if (c < 0x300) continue;
            if (char.IsSurrogate(c)) return SlowIsNfcSafe(s);
            if (NotNfcSafeBmp[c]) return false;
        }
        return true;
    }

    private static bool SlowIsNfcSafe(string s)
    {
        foreach (Rune r in s.EnumerateRunes())
        {
            if (r.Value >= 0x300 && NotNfcSafe.Contains(r.Value)) return false;
        }
        return true;
    }

    private static int ClassOf(int cp) => cp < 0x300 ? 0 : Classes.GetValueOrDefault(cp);

    private static void Decompose(int cp, List<int> output)
    {
        int s = cp - SBase;
        if (s >= 0 && s < SCount)
        {
            output.Add(LBase + s / NCount);
            output.Add(VBase + s % NCount / TCount);
            if (s % TCount != 0) output.Add(TBase + s % TCount);
            return;
        }
        if (cp >= 0xC0 && Decompositions.TryGetValue(cp, out int[]? d)) output.AddRange(d);
        else output.Add(cp);
    }

    /// <summary>Stable sort of every run of non-starters by combining class.</summary>
    private static void Reorder(List<int> cps)
    {
        for (int i = 1; i < cps.Count; i++)
        {
            int c = ClassOf(cps[i]);
            if (c == 0) continue;
            int j = i;
            int cp = cps[i];
            while (j > 0 && ClassOf(cps[j - 1]) > c)
            {
                cps[j] = cps[j - 1];
                j--;
            }
            cps[j] = cp;
        }
    }

    /// <summary>
    /// Canonical composition: a character combines with the last starter when nothing between them is a starter
    /// or has a class greater than or equal to its own.
    /// </summary>
    private static void Compose(List<int> cps)
    {
        if (cps.Count == 0) return;
        int starterIndex = 0;
        int lastClass = ClassOf(cps[0]) == 0 ? 0 : 256; // no starter yet: block everything
        int outLen = 1;
        for (int i = 1; i < cps.Count; i++)
        {
            int ch = cps[i];
            int chClass = ClassOf(ch);
            int composite = ComposePair(cps[starterIndex], ch);
            if (composite >= 0 && (lastClass < chClass || lastClass == 0))
            {
                cps[starterIndex] = composite;
                continue;
            }
            if (chClass == 0) starterIndex = outLen;
            lastClass = chClass;
            cps[outLen++] = ch;
        }
        cps.RemoveRange(outLen, cps.Count - outLen);
    }

    private static int ComposePair(int first, int second)
    {
        int l = first - LBase, v = second - VBase;
        if (l >= 0 && l < LCount && v >= 0 && v < VCount) return SBase + (l * VCount + v) * TCount;
        int s = first - SBase, t = second - TBase;
        if (s >= 0 && s < SCount && s % TCount == 0 && t > 0 && t < TCount) return first + t;
        return Compositions.TryGetValue(((long)first << 21) | (uint)second, out int c) ? c : -1;
    }

    /// <summary>Marks, second elements of compositions (incl. Hangul V and T jamo), and decomposable non-composites.</summary>
    private static HashSet<int> BuildNotNfcSafe()
    {
        var set = new HashSet<int>(Classes.Keys);
        var composites = new HashSet<int>();
        int[] c = NfcData.Compositions;
        for (int i = 0; i < c.Length; i += 3)
        {
            set.Add(c[i + 1]);
            composites.Add(c[i + 2]);
        }
        foreach (int cp in Decompositions.Keys)
        {
            if (!composites.Contains(cp)) set.Add(cp);
        }
        for (int v = VBase; v < VBase + VCount; v++) set.Add(v);
        for (int t = TBase + 1; t < TBase + TCount; t++) set.Add(t);
        return set;
    }

    private static bool[] BuildBmpFlags()
    {
        var flags = new bool[char.MaxValue + 1];
        foreach (int cp in NotNfcSafe)
        {
            if (cp <= char.MaxValue) flags[cp] = true;
        }
        return flags;
    }

    private static Dictionary<int, int> BuildClasses()
    {
        var map = new Dictionary<int, int>(NfcData.CombiningClasses.Length / 2);
        for (int i = 0; i < NfcData.CombiningClasses.Length; i += 2) map[NfcData.CombiningClasses[i]] = NfcData.CombiningClasses[i + 1];
        return map;
    }

    private static Dictionary<int, int[]> BuildDecompositions()
    {
        var map = new Dictionary<int, int[]>();
        int[] d = NfcData.Decompositions;
        for (int i = 0; i < d.Length;)
        {
            int cp = d[i], n = d[i + 1];
            map[cp] = d.AsSpan(i + 2, n).ToArray();
            i += 2 + n;
        }
        return map;
    }

    private static Dictionary<long, int> BuildCompositions()
    {
        var map = new Dictionary<long, int>(NfcData.Compositions.Length / 3);
        int[] c = NfcData.Compositions;
        for (int i = 0; i < c.Length; i += 3) map[((long)c[i] << 21) | (uint)c[i + 1]] = c[i + 2];
        return map;
    }
}
