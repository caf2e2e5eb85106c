#!/usr/bin/python3
"""Generates tests/fixtures/chat/{templates,conversations,expected}.json for VlmTune.ChatTemplates.

Oracle: Python jinja2 configured exactly as transformers' `_compile_jinja_template`
(src/transformers/utils/chat_template_utils.py): ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, extensions=[AssistantTracker ({% generation %}), jinja2.ext.loopcontrols]), with the
`tojson` filter replaced by json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)
and the globals raise_exception(message) and strftime_now(format). strftime_now reads a fixed clock
(2024-07-26 13:45:09) here so the fixtures are reproducible; the C# test uses the same clock.

Run:  /usr/bin/python3 tests/reference/chat/make_fixtures.py      (Debian python3-jinja2 3.1.2)
"""
import datetime
import json
import os
import random
import sys

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from templates import TEMPLATES  # noqa: E402

GENERATOR = "tests/reference/chat/make_fixtures.py"
FIXED_NOW = datetime.datetime(2024, 7, 26, 13, 45, 9)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "chat")


class GenerationTag(jinja2.ext.Extension):
    """transformers' AssistantTracker, minus the index tracking: {% generation %}body{% endgeneration %}."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return FIXED_NOW.strftime(format)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def txt(t):
    return {"type": "text", "text": t}


IMG = {"type": "image"}


def hand_written():
    """Hand-picked conversations: each targets one rendering rule or edge case."""
    tools = [
        {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                          "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                         "required": ["city"]}}}
    ]
    return [
        ("inference_one_image", [{"role": "user", "content": [IMG, txt("Can you describe this image?")]}], {}),
        ("text_then_image", [{"role": "user", "content": [txt("Look: "), IMG]}], {}),
        ("two_images_one_text", [{"role": "user", "content": [IMG, IMG, txt("Compare them.")]}], {}),
        ("training_pair", [{"role": "user", "content": [IMG, txt("Q?")]},
                           {"role": "assistant", "content": [txt(" A")]}], {}),
        ("multi_turn_images", [{"role": "user", "content": [IMG, txt("What is this?")]},
                               {"role": "assistant", "content": [txt("A dog.")]},
                               {"role": "user", "content": [txt("And this one?"), IMG]},
                               {"role": "assistant", "content": [txt("A cat.")]}], {}),
        ("system_list", [{"role": "system", "content": [txt("You are concise.")]},
                         {"role": "user", "content": [IMG, txt("Caption?")]},
                         {"role": "assistant", "content": [txt("Sunset.")]}], {}),
        ("system_string_user_list", [{"role": "system", "content": "You are concise."},
                                     {"role": "user", "content": [txt("Hi"), IMG]}], {}),
        ("unicode", [{"role": "user", "content": [txt("Ünïcödé ß straße — 日本語 😀👩‍👩‍👧 مرحبا ǆ e\u0301")]},
                     {"role": "assistant", "content": [txt("Καλημέρα 🌍")]}], {}),
        ("empty_text_parts", [{"role": "user", "content": [txt(""), IMG, txt("")]}], {}),
        ("empty_content_list", [{"role": "user", "content": []}], {}),
        ("empty_string_content", [{"role": "user", "content": ""}, {"role": "assistant", "content": ""}], {}),
        ("whitespace_text", [{"role": "user", "content": [txt("  leading and trailing  \n\n\ttab\n")]}], {}),
        ("jinja_lookalike_text", [{"role": "user", "content": [txt("{{ not a tag }} {% neither %} {# nor #}")]}], {}),
        ("quotes_backslashes", [{"role": "user", "content": [txt("it's \"quoted\" C:\\path\\n \\\\ end")]}], {}),
        ("five_images", [{"role": "user", "content": [IMG, IMG, IMG, IMG, IMG, txt("Which differs?")]}], {}),
        ("image_only", [{"role": "user", "content": [IMG]}], {}),
        ("odd_role", [{"role": "tool", "content": [txt("42")]}, {"role": "user", "content": [txt("ok")]}], {}),
        ("string_simple", [{"role": "user", "content": "Hello!"}], {}),
        ("string_system_user_assistant", [{"role": "system", "content": "Be helpful."},
                                          {"role": "user", "content": "What is 2+2?"},
                                          {"role": "assistant", "content": "4"}], {}),
        ("string_three_rounds", [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                                 {"role": "user", "content": "c"}, {"role": "assistant", "content": "d"},
                                 {"role": "user", "content": "e"}, {"role": "assistant", "content": "f"}], {}),
        ("string_not_alternating", [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}], {}),
        ("assistant_first", [{"role": "assistant", "content": "I start."}, {"role": "user", "content": "Ok."}], {}),
        ("string_trailing_ws", [{"role": "system", "content": "  sys  \n"}, {"role": "user", "content": "\n q \n"}], {}),
        ("no_messages", [], {}),
        ("tools_in_user_message", [{"role": "user", "content": "Weather in Paris?"}], {"tools": tools}),
        ("tools_in_system", [{"role": "system", "content": "Use tools."}, {"role": "user", "content": "Weather in Oslo?"}],
         {"tools": tools, "tools_in_user_message": False}),
        ("tool_call_roundtrip", [{"role": "user", "content": "Weather in Rome?"},
                                 {"role": "assistant", "tool_calls": [{"type": "function", "function": {
                                     "name": "get_weather", "arguments": {"city": "Rome", "unit": "°C"}}}]},
                                 {"role": "tool", "content": {"temp": 31.5, "sky": "clear"}},
                                 {"role": "assistant", "content": "31.5 °C and clear."}], {"date_string": "01 Jan 2025"}),
        ("two_tool_calls_rejected", [{"role": "user", "content": "x"},
                                     {"role": "assistant", "tool_calls": [{"function": {"name": "a", "arguments": {}}},
                                                                          {"function": {"name": "b", "arguments": {}}}]}], {}),
        ("builtin_tools", [{"role": "user", "content": "Search it."},
                           {"role": "assistant", "tool_calls": [{"function": {"name": "brave_search",
                                                                              "arguments": {"query": "jinja", "n": "3"}}}]}],
         {"builtin_tools": ["brave_search", "code_interpreter", "wolfram_alpha"]}),
        ("tools_without_user", [], {"tools": tools}),
        ("vision_ids", [{"role": "user", "content": [IMG, txt("and"), {"type": "video"}, {"type": "image_url", "image_url": "x"}]}],
         {"add_vision_id": True}),
        ("qwen_image_key", [{"role": "user", "content": [{"type": "image", "image": "file://a.png"}, txt("Describe.")]}], {}),
        ("newline_roles", [{"role": "user", "content": [txt("line1\nline2\r\nline3")]}], {}),
        ("long_text", [{"role": "user", "content": [txt(" ".join(["word%d" % i for i in range(60)]))]}], {}),
        ("uppercase_text", [{"role": "user", "content": [txt("SHOUT"), txt("MiXeD"), txt("quiet")]}], {}),
        ("numbers_in_text", [{"role": "user", "content": [txt("3.14159 1e-5 100 -7")]}], {}),
        ("role_case", [{"role": "USER", "content": [txt("caps role")]}, {"role": "Assistant", "content": [txt("x")]}], {}),
    ]


WORDS = ["hello", "world", "chat", "template", "image", "ünï", "日本", "😀", "tab\there", "new\nline", "quote'd",
         "d\"q", "back\\slash", "", " ", "{{x}}", "ß", "A", "z" * 30, "42", "-1.5", "<image>", "<end_of_utterance>"]


def random_conversations(count, seed=1234):
    """Seeded random conversations mixing string and list content, 0-3 images per message, system turns."""
    rng = random.Random(seed)
    conversations = []
    for n in range(count):
        messages = []
        if rng.random() < 0.3:
            messages.append({"role": "system", "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 4)))})
        list_style = rng.random() < 0.6
        for turn in range(rng.randint(1, 4)):
            for role in ("user", "assistant"):
                if role == "assistant" and rng.random() < 0.2:
                    break
                if list_style:
                    parts = [IMG for _ in range(rng.randint(0, 3) if role == "user" else 0)]
                    parts += [txt(" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 5)))) for _ in range(rng.randint(0, 2))]
                    rng.shuffle(parts)
                    if not parts:
                        parts = [txt(rng.choice(WORDS))]
                    messages.append({"role": role, "content": parts})
                else:
                    messages.append({"role": role, "content": " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 6)))})
        conversations.append(("random_%02d" % n, messages, {}))
    return conversations


def main():
    env = make_env()
    compiled = {name: env.from_string(t["source"]) for name, t in TEMPLATES.items()}
    conversations = hand_written() + random_conversations(30)
    cases = []
    for conv_id, messages, extra in conversations:
        for name, template in TEMPLATES.items():
            for agp in (False, True):
                variables = dict(extra)
                if template["bos_token"] is not None:
                    variables["bos_token"] = template["bos_token"]
                if template["eos_token"] is not None:
                    variables["eos_token"] = template["eos_token"]
                case = {"template": name, "conversation": conv_id, "add_generation_prompt": agp}
                try:
                    case["output"] = compiled[name].render(messages=messages, add_generation_prompt=agp, **variables)
                except jinja2.exceptions.UndefinedError as e:
                    case["error"] = {"kind": "undefined", "message": str(e)}
                except jinja2.exceptions.SecurityError as e:
                    case["error"] = {"kind": "security", "message": str(e)}
                except jinja2.exceptions.TemplateError as e:
                    case["error"] = {"kind": "raised", "message": str(e)}
                except (TypeError, ValueError, AttributeError, KeyError, IndexError) as e:
                    case["error"] = {"kind": "type", "message": str(e)}
                cases.append(case)
    os.makedirs(OUT, exist_ok=True)

    def dump(name, obj):
        with open(os.path.join(OUT, name), "w", encoding="utf-8", newline="\n") as f:
            json.dump(obj, f, ensure_ascii=False, indent=1)
            f.write("\n")

    header = {"generator": GENERATOR, "jinja2_version": jinja2.__version__, "fixed_now": FIXED_NOW.isoformat()}
    dump("templates.json", dict(header, templates=TEMPLATES))
    dump("conversations.json", dict(header, conversations=[{"id": c, "messages": m, "extra": e} for c, m, e in conversations]))
    dump("expected.json", dict(header, cases=cases))
    errors = sum(1 for c in cases if "error" in c)
    print(f"{len(conversations)} conversations x {len(TEMPLATES)} templates x 2 = {len(cases)} cases ({errors} errors)")


if __name__ == "__main__":
    main()
