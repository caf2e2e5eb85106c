// Second opinion: renders every fixture case with @huggingface/jinja (the JS port Hugging Face maintains) and
// lists where it disagrees with Python jinja2's expected.json. Python jinja2 is the reference; this only informs
// README.md. Run:  cd tests/reference/chat && npm install && node compare_hf_jinja.mjs
import { readFileSync } from "node:fs";
import { Template } from "@huggingface/jinja";

const dir = new URL("../../fixtures/chat/", import.meta.url);
const load = (name) => JSON.parse(readFileSync(new URL(name, dir), "utf8"));
const templates = load("templates.json").templates;
const conversations = Object.fromEntries(load("conversations.json").conversations.map((c) => [c.id, c]));
const cases = load("expected.json").cases;

const compiled = {};
const parseErrors = {};
for (const [name, t] of Object.entries(templates)) {
  try {
    compiled[name] = new Template(t.source);
  } catch (e) {
    parseErrors[name] = String(e.message ?? e);
  }
}

const summary = {};
const examples = {};
for (const c of cases) {
  const key = c.template;
  summary[key] ??= { cases: 0, agree: 0, outputDiffers: 0, jsThrew: 0, jsRendered: 0, bothThrew: 0 };
  const s = summary[key];
  s.cases++;
  if (!compiled[key]) continue;
  const conv = conversations[c.conversation];
  const t = templates[key];
  const vars = { ...conv.extra, messages: conv.messages, add_generation_prompt: c.add_generation_prompt };
  if (t.bos_token !== null) vars.bos_token = t.bos_token;
  if (t.eos_token !== null) vars.eos_token = t.eos_token;
  let out, err;
  try {
    out = compiled[key].render(vars);
  } catch (e) {
    err = String(e.message ?? e);
  }
  const note = (kind, detail) => {
    examples[key] ??= [];
    if (examples[key].filter((e) => e.kind === kind).length < 2)
      examples[key].push({ case: `${c.conversation} agp=${c.add_generation_prompt}`, kind, detail });
  };
  if ("output" in c) {
    if (err !== undefined) { s.jsThrew++; note("js threw", err); }
    else if (out === c.output) s.agree++;
    else { s.outputDiffers++; note("output differs", firstDifference(c.output, out)); }
  } else if (err !== undefined) { s.bothThrew++; s.agree++; }
  else { s.jsRendered++; note("python threw, js rendered", c.error.message); }
}

function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return `at char ${i}: python ${JSON.stringify(a.slice(i, i + 40))} vs js ${JSON.stringify(b.slice(i, i + 40))}`;
}

console.log(JSON.stringify({ parseErrors, summary, examples }, null, 1));
