using System.Globalization;
using System.Text;

namespace VlmTune.ChatTemplates.Jinja;

/// <summary>
/// Splits a template into tokens the way jinja2's lexer does with Hugging Face's settings (trim_blocks=True,
/// lstrip_blocks=True): text, <c>{{ }}</c>, <c>{% %}</c>, <c>{# #}</c> and <c>{% raw %}</c>, with "-" / "+" whitespace
/// control. Whitespace rules, in jinja's order:
/// - "{%-", "{{-", "{#-": strip all whitespace (newlines included) before the tag;
/// - otherwise "{%" and "{#" (not "{{", not "{%+"): strip spaces/tabs back to the line start when only whitespace
///   precedes the tag on its line (lstrip_blocks);
/// - "-%}", "-}}", "-#}": strip all whitespace after; "%}" and "#}" swallow one following "\n" (trim_blocks); "+%}" keeps it.
/// </summary>
internal sealed class Lexer
{
    private static readonly string[] Operators =
        ["//", "**", "==", "!=", ">=", "<=", "+", "-", "/", "*", "%", "~", "[", "]", "(", ")", "{", "}", ">", "<", "=", ".", ":", "|", ",", ";"];

    private readonly SourceText _source;
    private readonly string _s;
    private readonly List<Token> _tokens = new();
    private int _pos;
    private bool _lineStarting = true;

    private Lexer(SourceText source)
    {
        _source = source;
        _s = source.Text;
    }

    public static List<Token> Tokenize(SourceText source)
    {
        var lexer = new Lexer(source);
        lexer.Run();
        return lexer._tokens;
    }

    private void Run()
    {
        while (_pos < _s.Length)
        {
            int open = FindOpener(_pos);
            if (open < 0)
            {
                Emit(TokenKind.Data, _s[_pos..], _pos);
                break;
            }
            char kind = _s[open + 1];
            int after = open + 2;
            char sign = after < _s.Length && (_s[after] == '-' || _s[after] == '+') ? _s[after] : '\0';
            int rawEnd = kind == '%' ? MatchRawBegin(after) : -1;
            EmitText(_pos, open, sign, isVariable: kind == '{');
            _pos = after + (sign != '\0' ? 1 : 0);
            if (kind == '#') LexComment(open);
            else if (rawEnd >= 0) LexRaw(rawEnd);
            else LexTag(open, kind == '{' ? TokenKind.VariableBegin : TokenKind.BlockBegin);
        }
        _tokens.Add(new Token(TokenKind.Eof, "", null, _s.Length));
    }

    private int FindOpener(int from)
    {
        for (int i = from; i + 1 < _s.Length; i++)
            if (_s[i] == '{' && (_s[i + 1] == '{' || _s[i + 1] == '%' || _s[i + 1] == '#')) return i;
        return -1;
    }

    /// <summary>Emits the text before a tag after applying "-" stripping or lstrip_blocks.</summary>
    private void EmitText(int start, int end, char sign, bool isVariable)
    {
        string text = _s[start..end];
        if (sign == '-') text = PyStrings.Strip(text, null, left: false, right: true);
        else if (sign != '+' && !isVariable)
        {
            int lineStart = text.LastIndexOf('\n') + 1;
            if ((lineStart > 0 || _lineStarting) && lineStart < text.Length && IsAllSpace(text, lineStart))
                text = text[..lineStart];
        }
        if (text.Length > 0) Emit(TokenKind.Data, text, start);
    }

    private static bool IsAllSpace(string text, int from)
    {
        for (int i = from; i < text.Length; i++)
            if (!PyStrings.IsSpace(text[i])) return false;
        return true;
    }

    private void LexComment(int open)
    {
        for (int i = _pos; i < _s.Length; i++)
        {
            if ((_s[i] == '-' || _s[i] == '+') && At(i + 1, "#}"))
            {
                _pos = i + 3;
                if (_s[i] == '-') SkipWhitespace();
                UpdateLineStarting();
                return;
            }
            if (At(i, "#}"))
            {
                _pos = i + 2;
                if (_pos < _s.Length && _s[_pos] == '\n') _pos++;
                UpdateLineStarting();
                return;
            }
        }
        throw _source.Error("missing end of comment tag '#}' for the comment opened here", open);
    }

    /// <summary>Matches "{% raw %}" (after the "{%"); returns the offset after it, or -1.</summary>
    private int MatchRawBegin(int p)
    {
        if (p < _s.Length && (_s[p] == '-' || _s[p] == '+')) p++;
        while (p < _s.Length && PyStrings.IsSpace(_s[p])) p++;
        if (!At(p, "raw")) return -1;
        p += 3;
        while (p < _s.Length && PyStrings.IsSpace(_s[p])) p++;
        if (At(p, "-%}"))
        {
            p += 3;
            while (p < _s.Length && PyStrings.IsSpace(_s[p])) p++;
            return p;
        }
        return At(p, "%}") ? p + 2 : -1;
    }

    private void LexRaw(int contentStart)
    {
        int open = _pos - 2;
        _pos = contentStart;
        UpdateLineStarting();
        for (int i = _pos; i + 1 < _s.Length; i++)
        {
            if (!At(i, "{%")) continue;
            int p = i + 2;
            char sign = p < _s.Length && (_s[p] == '-' || _s[p] == '+') ? _s[p] : '\0';
            if (sign != '\0') p++;
            while (p < _s.Length && PyStrings.IsSpace(_s[p])) p++;
            if (!At(p, "endraw")) continue;
            p += 6;
            while (p < _s.Length && PyStrings.IsSpace(_s[p])) p++;
            int end;
            if (At(p, "+%}")) end = p + 3;
            else if (At(p, "-%}")) { end = p + 3; while (end < _s.Length && PyStrings.IsSpace(_s[end])) end++; }
            else if (At(p, "%}")) { end = p + 2; if (end < _s.Length && _s[end] == '\n') end++; }
            else continue;
            EmitText(contentStart, i, sign, isVariable: false);
            _pos = end;
            UpdateLineStarting();
            return;
        }
        throw _source.Error("missing '{% endraw %}' for the raw block opened here", open);
    }

    private void LexTag(int open, TokenKind begin)
    {
        bool block = begin == TokenKind.BlockBegin;
        Emit(begin, block ? "{%" : "{{", open);
        var balance = new Stack<(char Close, int Position)>();
        while (true)
        {
            if (_pos >= _s.Length)
                throw _source.Error($"unexpected end of template: the tag opened here has no closing '{(block ? "%}" : "}}")}'", open);
            if (balance.Count == 0 && TryCloseTag(block)) return;
            char c = _s[_pos];
            if (PyStrings.IsSpace(c)) { _pos++; continue; }
            if (TryNumber() || TryName() || TryString()) continue;
            string? op = Operators.FirstOrDefault(o => At(_pos, o));
            if (op is null) throw _source.Error($"unexpected character '{c}'", _pos);
            if (op is "{" or "(" or "[") balance.Push((op == "{" ? '}' : op == "(" ? ')' : ']', _pos));
            else if (op is "}" or ")" or "]")
            {
                if (balance.Count == 0) throw _source.Error($"unexpected '{op}'", _pos);
                var (expected, _) = balance.Pop();
                if (expected != op[0]) throw _source.Error($"unexpected '{op}', expected '{expected}'", _pos);
            }
            Emit(TokenKind.Operator, op, _pos);
            _pos += op.Length;
        }
    }

    private bool TryCloseTag(bool block)
    {
        string close = block ? "%}" : "}}";
        int start = _pos;
        if (block && At(_pos, "+" + close)) _pos += 3;
        else if (At(_pos, "-" + close))
        {
            _pos += 3;
            SkipWhitespace();
        }
        else if (At(_pos, close))
        {
            _pos += 2;
            if (block && _pos < _s.Length && _s[_pos] == '\n') _pos++;
        }
        else return false;
        Emit(block ? TokenKind.BlockEnd : TokenKind.VariableEnd, close, start);
        UpdateLineStarting();
        return true;
    }

    private bool TryNumber()
    {
        int p = _pos;
        if (!char.IsAsciiDigit(_s[p])) return false;
        if (_s[p] == '0' && p + 1 < _s.Length && "bBoOxX".Contains(_s[p + 1]))
        {
            int radix = char.ToLowerInvariant(_s[p + 1]) switch { 'b' => 2, 'o' => 8, _ => 16 };
            int q = p + 2;
            var digits = new StringBuilder();
            while (q < _s.Length && (_s[q] == '_' || Uri.IsHexDigit(_s[q]) && Convert.ToInt32(_s[q].ToString(), 16) < radix))
            {
                if (_s[q] != '_') digits.Append(_s[q]);
                q++;
            }
            if (digits.Length > 0)
            {
                Emit(TokenKind.Integer, _s[p..q], p, Convert.ToInt64(digits.ToString(), radix));
                _pos = q;
                return true;
            }
        }
        int end = ScanDigits(p);
        bool isFloat = false;
        bool afterDot = p > 0 && _s[p - 1] == '.';
        if (!afterDot && end < _s.Length && _s[end] == '.' && end + 1 < _s.Length && char.IsAsciiDigit(_s[end + 1]))
        {
            end = ScanDigits(end + 1);
            isFloat = true;
        }
        if (!afterDot && end < _s.Length && (_s[end] == 'e' || _s[end] == 'E'))
        {
            int q = end + 1;
            if (q < _s.Length && (_s[q] == '+' || _s[q] == '-')) q++;
            if (q < _s.Length && char.IsAsciiDigit(_s[q]))
            {
                end = ScanDigits(q);
                isFloat = true;
            }
        }
        string text = _s[p..end];
        string clean = text.Replace("_", "");
        if (isFloat) Emit(TokenKind.Float, text, p, double.Parse(clean, NumberStyles.Float, CultureInfo.InvariantCulture));
        else if (long.TryParse(clean, NumberStyles.None, CultureInfo.InvariantCulture, out long value)) Emit(TokenKind.Integer, text, p, value);
        else throw _source.Error($"integer literal '{text}' is out of the supported range (64-bit)", p);
        _pos = end;
        return true;
    }

    private int ScanDigits(int p)
    {
        while (p < _s.Length && (char.IsAsciiDigit(_s[p]) || (_s[p] == '_' && p + 1 < _s.Length && char.IsAsciiDigit(_s[p + 1])))) p++;
        return p;
    }

    private bool TryName()
    {
        char c = _s[_pos];
        if (!(c == '_' || char.IsLetter(c))) return false;
        int p = _pos + 1;
        while (p < _s.Length && (_s[p] == '_' || char.IsLetterOrDigit(_s[p]))) p++;
        Emit(TokenKind.Name, _s[_pos..p], _pos);
        _pos = p;
        return true;
    }

    private bool TryString()
    {
        char quote = _s[_pos];
        if (quote != '\'' && quote != '"') return false;
        int p = _pos + 1;
        while (p < _s.Length && _s[p] != quote) p += _s[p] == '\\' ? 2 : 1;
        if (p >= _s.Length) throw _source.Error("unterminated string literal", _pos);
        string raw = _s[(_pos + 1)..p];
        Emit(TokenKind.String, _s[_pos..(p + 1)], _pos, StringEscapes.Decode(raw, _source, _pos + 1));
        _pos = p + 1;
        return true;
    }

    private void SkipWhitespace()
    {
        while (_pos < _s.Length && PyStrings.IsSpace(_s[_pos])) _pos++;
    }

    private void UpdateLineStarting() => _lineStarting = _pos > 0 && _s[_pos - 1] == '\n';

    private bool At(int p, string text) => p >= 0 && p + text.Length <= _s.Length && string.CompareOrdinal(_s, p, text, 0, text.Length) == 0;

    private void Emit(TokenKind kind, string text, int position, object? value = null) =>
        _tokens.Add(new Token(kind, text, value ?? text, position));
}
