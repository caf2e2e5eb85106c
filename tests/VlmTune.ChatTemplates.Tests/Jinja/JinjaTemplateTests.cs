using VlmTune.ChatTemplates.Jinja;

namespace VlmTune.ChatTemplates.Tests.Jinja;

/// <summary>
/// Unit cases for the Jinja subset. Every expected string was produced by Python jinja2 3.1.2 configured as
/// transformers does (tests/reference/chat/make_fixtures.py: make_env()), so these pin jinja2 behaviour, not ours.
/// </summary>
public class JinjaTemplateTests
{
    private static string Render(string source) => JinjaTemplate.Parse(source).Render(new Dictionary<string, object?>());

    /// <summary>trim_blocks eats the newline after %} and #}; lstrip_blocks strips indentation before {% and {#; '-' strips all whitespace, '+' keeps it; \r\n is normalised and one trailing newline dropped.</summary>
    [Theory]
    [InlineData("a\n  {% if true %}\n    b\n  {% endif %}\nc\n",
                "a\n    b\nc")]
    [InlineData("{%- for x in [1,2] -%}\n  {{ x }}\n{%- endfor %}\n",
                "12")]
    [InlineData("a {# c #}\n  {#- c2 #}  b\n",
                "a   b")]
    [InlineData("  {%+ if true %}x{% endif +%}\ny",
                "  x\ny")]
    [InlineData("{{ 'a' }}  {% if true %}b{% endif %}",
                "a  b")]
    [InlineData("x\r\ny\rz\n\n",
                "x\ny\nz\n")]
    [InlineData("{% raw %}{{ x }}{% endraw %}\n{{ 1 }}",
                "{{ x }}1")]
    [InlineData("\t{% set x = 1 %}\n{{ x }}",
                "1")]
    [InlineData("{{ 1 -}}   \n  {{- 2 }}",
                "12")]
    public void Whitespace_control_trim_blocks_and_lstrip_blocks(string source, string expected) => Assert.Equal(expected, Render(source));

    /// <summary>loop.index/index0/revindex/revindex0/first/last/length, 'for x in xs if c' (counted after filtering), else, break/continue, tuple unpacking, nested loops, and {% set %} not leaking out of a loop body.</summary>
    [Theory]
    [InlineData("{% for x in 'ab' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}",
                "1021TrueFalse2;2110FalseTrue2;")]
    [InlineData("{% for x in [1,2,3,4] if x is even %}{{ loop.index }}/{{ loop.length }}={{ x }} {% else %}none{% endfor %}",
                "1/2=2 2/2=4 ")]
    [InlineData("{% for x in [] %}x{% else %}empty{% endfor %}",
                "empty")]
    [InlineData("{% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}",
                "02")]
    [InlineData("{% for a, b in [(1, 'x'), (2, 'y')] %}{{ a }}{{ b }}{% endfor %}",
                "1x2y")]
    [InlineData("{% for x in [1,2] %}{% for y in 'ab' %}{{ loop.index }}{{ y }}{% endfor %}{{ loop.index }}|{% endfor %}",
                "1a2b1|1a2b2|")]
    [InlineData("{% set x = 1 %}{% for i in range(2) %}{% set x = x + 10 %}{{ x }} {% endfor %}{{ x }}",
                "11 11 1")]
    public void Loop_variables_filters_else_and_scoping(string source, string expected) => Assert.Equal(expected, Render(source));

    /// <summary>namespace() is the one value a loop body can mutate for the enclosing scope.</summary>
    [Theory]
    [InlineData("{% set ns = namespace(n=0, seen=[]) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.seen = ns.seen + [i] %}{% endfor %}{{ ns.n }} {{ ns.seen }}",
                "6 [0, 1, 2, 3]")]
    [InlineData("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}",
                "12")]
    public void Namespace_carries_state_across_iterations(string source, string expected) => Assert.Equal(expected, Render(source));

    /// <summary>capitalize/trim/length/lower/upper/title/first/last/join/default/tojson/replace/string/int/list/items/selectattr/rejectattr/map.</summary>
    [Theory]
    [InlineData("{{ 'hello WORLD' | capitalize }}|{{ '  x  ' | trim }}|{{ [1,2,3] | length }}|{{ 'Hi' | lower }}{{ 'Hi' | upper }}|{{ 'a b-c' | title }}",
                "Hello world|x|3|hiHI|A B-C")]
    [InlineData("{{ [3,1,2] | first }}{{ [3,1,2] | last }}|{{ ['a','b'] | join(', ') }}|{{ x | default('dflt') }}|{{ none | default('n', true) }}",
                "32|a, b|dflt|n")]
    [InlineData("{{ {'b': 'é', 'a': [1, 2.5, none, true]} | tojson }}|{{ {'x': {'y': 1}} | tojson(indent=2) }}|{{ 'é' | tojson(ensure_ascii=true) }}|{{ {'b':1,'a':2} | tojson(sort_keys=true, separators=(',', ':')) }}",
                "{\"b\": \"é\", \"a\": [1, 2.5, null, true]}|{\n  \"x\": {\n    \"y\": 1\n  }\n}|\"\\u00e9\"|{\"a\":2,\"b\":1}")]
    [InlineData("{{ 'aXbX' | replace('X', '-') }}|{{ 42 | string }}|{{ '7' | int + 1 }}|{{ 'abc' | list }}|{{ {'k': 1} | items | list }}",
                "a-b-|42|8|['a', 'b', 'c']|[('k', 1)]")]
    [InlineData("{{ [{'r': 'u', 'n': 1}, {'r': 'a', 'n': 2}] | selectattr('r', 'equalto', 'a') | map(attribute='n') | list }}|{{ [{'r': 'u'}, {'r': 'a'}] | rejectattr('r', 'equalto', 'a') | list }}|{{ ['a', 'B'] | map('upper') | join }}",
                "[2]|[{'r': 'u'}]|AB")]
    public void Filters(string source, string expected) => Assert.Equal(expected, Render(source));

    /// <summary>is-tests, Python arithmetic and comparisons, slicing and negative indices, str and dict methods.</summary>
    [Theory]
    [InlineData("{{ x is defined }}{{ none is none }}{{ 'a' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 1.5 is number }}{{ 2 is equalto 2 }}{{ 'x' is not string }}",
                "FalseTrueTrueTrueTrueTrueTrueFalse")]
    [InlineData("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 8 }} {{ 'a' ~ 1 ~ none }} {{ 'b' in 'abc' }} {{ 3 not in [1] }} {{ 1 if false else 2 }} {{ 1 < 2 <= 2 }} {{ not 0 and 'y' or 'z' }}",
                "3 -4 1 2 3.5 256 a1None True True 2 True y")]
    [InlineData("{{ [1,2,3][1:] }} {{ [1,2,3][-1] }} {{ 'hello'[1:3] }} {{ [1,2,3][::-1] }} {{ {'a': 1}['a'] }} {{ {'a': 1}.a }} {{ [1,2][5] }}|",
                "[2, 3] 3 el [3, 2, 1] 1 1 |")]
    [InlineData("{{ ' x '.strip() }}|{{ 'a,b'.split(',') }}|{{ 'ab'.startswith('a') }}|{{ 'ab'.endswith('b') }}|{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}|{{ 'aa'.replace('a','b') }}|{{ 'ab cd'.title() }}|{{ {'a':1}.items() | list }}|{{ {'a':1}.keys() | list }}{{ {'a':1}.values() | list }}|{{ {'a':1}.get('a') }}{{ {'a':1}.get('b') }}{{ {'a':1}.get('b', 3) }}",
                "x|['a', 'b']|True|True|ABab|bb|Ab Cd|[('a', 1)]|['a'][1]|1None3")]
    public void Tests_operators_subscripts_and_methods(string source, string expected) => Assert.Equal(expected, Render(source));

    /// <summary>Statement forms beyond for/if/set.</summary>
    [Theory]
    [InlineData("{% macro m(a, b='q') %}<{{ a }}{{ b }}>{% endmacro %}{{ m(1) }}{{ m(2, b=3) }}{% macro w() %}[{{ caller() }}]{% endmacro %}{% call w() %}in{% endcall %}",
                "<1q><23>[in]")]
    [InlineData("{% set s %}x{{ 1 + 1 }}{% endset %}{{ s }}|{% filter upper %}abc{% endfilter %}|{% with a = 2 %}{{ a }}{% endwith %}{{ a }}|{% generation %}gen{% endgeneration %}",
                "x2|ABC|2|gen")]
    public void Macros_call_set_filter_with_and_generation_blocks(string source, string expected) => Assert.Equal(expected, Render(source));

    /// <summary>Values print as Python's str(): None/True, 1.0, 1e-05, 1e+16, tuples, dict reprs.</summary>
    [Theory]
    [InlineData("{{ [1, 'a', none, true, 1.0, 1e-5, 1e16, 0.1, (1,), {'a': [1]}] }} {{ 1e100 }} {{ -0.0 }} {{ 12345678.9 }} {{ 3.0 * 1e15 }}",
                "[1, 'a', None, True, 1.0, 1e-05, 1e+16, 0.1, (1,), {'a': [1]}] 1e+100 -0.0 12345678.9 3000000000000000.0")]
    public void Printing_follows_python_str(string source, string expected) => Assert.Equal(expected, Render(source));
}
