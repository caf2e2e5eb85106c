"""Chat templates rendered by make_fixtures.py (exact texts; see README.md for provenance)."""

# SmolVLM-256M/500M-Instruct chat_template.json (VlmTune spec smolvlm.md §5.1), byte for byte.
SMOLVLM = (
    "<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
    "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
    "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
    "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
    "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)

# SmolLM2-Instruct tokenizer_config.json "chat_template" (ChatML with a default system prompt).
SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

# Llama-3.1-Instruct tokenizer_config.json "chat_template" (tools, tojson(indent=4), loop.last, raise_exception).
LLAMA31 = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\\n\\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\\n\\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""

# Qwen2-VL-Instruct chat_template (namespace counters, "is string", "in" on dicts, add_vision_id).
QWEN2VL = (
    "{% set image_count = namespace(value=0) %}{% set video_count = namespace(value=0) %}"
    "{% for message in messages %}{% if loop.first and message['role'] != 'system' %}<|im_start|>system\n"
    "You are a helpful assistant.<|im_end|>\n{% endif %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}<|im_end|>\n"
    "{% else %}{% for content in message['content'] %}"
    "{% if content['type'] == 'image' or 'image' in content or 'image_url' in content %}"
    "{% set image_count.value = image_count.value + 1 %}{% if add_vision_id %}Picture {{ image_count.value }}: {% endif %}"
    "<|vision_start|><|image_pad|><|vision_end|>"
    "{% elif content['type'] == 'video' or 'video' in content %}"
    "{% set video_count.value = video_count.value + 1 %}{% if add_vision_id %}Video {{ video_count.value }}: {% endif %}"
    "<|vision_start|><|video_pad|><|vision_end|>"
    "{% elif 'text' in content %}{{ content['text'] }}{% endif %}{% endfor %}<|im_end|>\n"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

# Mistral-7B-Instruct-v0.1 style: alternation check with raise_exception.
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)

# Written for VlmTune: exercises the rest of the supported subset on every conversation.
FEATURES = r"""{#- A feature tour; every line depends on the conversation. -#}
{% set ns = namespace(images=0, texts=[], chars=0) %}
{% macro part(p, idx=0) -%}
  {%- if p is mapping and p.type == 'image' %}[img{{ idx }}]{% elif p is mapping %}{{ p.text | default('<no text>', true) | replace('\n', '\\n') }}{% else %}{{ p }}{% endif -%}
{%- endmacro %}
{% macro box(title) %}<{{ title | upper }}>{{ caller() }}</{{ title }}>{% endmacro %}
N={{ messages | length }} roles={{ messages | map(attribute='role') | unique | list | sort | join(',') }} first={{ (messages | first).role if messages else 'none' }}
{% for m in messages %}
  {%- set c = m.content %}
  {%- if c is string %}{% set ns.chars = ns.chars + c | length %}{% else %}
    {%- for p in c if p.type == 'image' %}{% set ns.images = ns.images + 1 %}{% endfor %}
    {%- set ns.texts = ns.texts + (c | selectattr('type', 'equalto', 'text') | map(attribute='text') | list) %}
  {%- endif %}
{{ loop.index }}/{{ loop.length }} {{ loop.cycle('odd', 'even') }} {{ m.role | title }}{{ '!' if loop.last }} rev={{ loop.revindex0 }} prev={{ loop.previtem.role if not loop.first else '-' }} next={{ loop.nextitem['role'] if not loop.last else '-' }}
{%- if c is string %} s[{{ c | length }}]={{ c[:12] }}|{{ c[-3:] }}|{{ c.strip() | wordcount }}|{{ c.split() | length }}|{{ c | trim | capitalize }}
{%- else %} parts={% for p in c %}{{ part(p, loop.index0) }}{{ ',' if not loop.last }}{% endfor %}
{%- endif %}
{% if m.role == 'assistant' %}{% call box('reply') %}{{ m.content if m.content is string else (m.content | map(attribute='type') | join('+')) }}{% endcall %}
{% endif %}
{% endfor %}
images={{ ns.images }} chars={{ ns.chars }} texts={{ ns.texts | length }} joined={{ ns.texts | join(' / ') }}
{%- for t in ns.texts %}{% if loop.index > 2 %}{% break %}{% endif %}{% if t == '' %}{% continue %}{% endif %}
 t{{ loop.index }}={{ t | tojson }} {{ t | length }} {{ t.upper() if t.isupper() else t.lower() }}
{%- endfor %}
{% set summary %}{{ messages | length }} message{{ 's' if messages | length != 1 }}{% endset %}
summary={{ summary | center(20) }}|{{ "%s:%d" | format(summary, ns.images) }}
{% with total = ns.images * 2 + ns.chars // 3, ratio = (ns.chars / (ns.images + 1)) | round(2) %}math={{ total }} {{ ratio }} {{ total % 7 }} {{ -total // 4 }} {{ 2 ** (ns.images % 5) }} {{ 1.5 * ns.images }} {{ (ns.chars / 7) }}{% endwith %}

meta={{ {'n': messages | length, 'gen': add_generation_prompt, 'none': none, 'f': 0.5, 'l': [1, 'two', none]} | tojson(sort_keys=true) }}
py={{ [messages | length, add_generation_prompt, none, 0.1 + 0.2, 'q\'s', "d\"q"] }} {{ (1, 2) }} {{ {'a': (3,)} }}
{{ messages[-1].role if messages else 'empty' }} {{ messages[1:] | length }} {{ (messages | reverse | list | first).role | default('?') if messages else '' }}
{%- if messages and messages[0].content is not string %}

first-part-keys={{ messages[0].content | map('list') | map('join', ':') | join(' ') if messages[0].content else '-' }}
{% endif %}
{#- whitespace control: #}
    {%+ if true %}kept-indent{% endif +%}
    {% if true %}lstripped{% endif %}
  a {{- ' b ' -}} c
{% raw %}{{ not rendered }}{% endraw %}
date={{ strftime_now("%d %b %Y %H:%M:%S %A %j %-d") }} {{ 'x' is defined }} {{ undefined_name is defined }} {{ undefined_name }} {{ 3 is odd }} {{ 'abc' is string }} {{ [1] is iterable }} {{ none is none }} {{ 7 is divisibleby 7 }} {{ 'B' in 'ABC' }} {{ 4 not in [1, 2] }}
dict={{ {'b': 2, 'a': 1} | dictsort | map('join', '=') | join('&') }} {% for k, v in {'x': 1, 'y': [2]} | items %}{{ k }}:{{ v }}{{ ';' if not loop.last }}{% endfor %} {{ {'k': 'v'}.get('k') }} {{ {'k': 'v'}.get('z', 'dflt') }} {{ {'k': 'v'}.keys() | list }}
str={{ 'a-b_c d'.title() }} {{ 'hello world' | title }} {{ '  pad  '.lstrip() }}| {{ 'x,y,,z'.split(',') }} {{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'aaa'.replace('a', 'b', 2) }} {{ 'é😀x' | length }} {{ 'é😀x'[1] }} {{ 'abcdef'[::2] }} {{ 'abcdef'[::-1] }} {{ '{} and {}'.format('x', 2) }}
{{ 'line1\nline2' | indent(2) }} {{ [3, 1, 2] | max }} {{ [3, 1, 2] | min }} {{ [1, 2, 3] | sum }} {{ ['b', 'A', 'c'] | sort }} {{ 'Text' | lower }} {{ 42 | string + '!' }} {{ '12' | int + 1 }} {{ 'x1' | int(-1) }} {{ '2.5' | float * 2 }}
"""

TEMPLATES = {
    "smolvlm": {"source": SMOLVLM, "bos_token": "<|im_start|>", "eos_token": "<end_of_utterance>"},
    "smollm2": {"source": SMOLLM2, "bos_token": "<|im_start|>", "eos_token": "<|im_end|>"},
    "llama31": {"source": LLAMA31, "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>"},
    "qwen2vl": {"source": QWEN2VL, "bos_token": None, "eos_token": "<|im_end|>"},
    "mistral": {"source": MISTRAL, "bos_token": "<s>", "eos_token": "</s>"},
    "features": {"source": FEATURES, "bos_token": "<s>", "eos_token": "</s>"},
}
