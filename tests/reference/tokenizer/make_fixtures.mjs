// Generates every file under tests/fixtures/tokenizer/ with Hugging Face `tokenizers` (the official Node
// binding of the Rust crate, npm `tokenizers`) as the oracle, and `@huggingface/transformers` (transformers.js)
// as a second opinion.
//
//   cd tests/reference/tokenizer && npm ci --ignore-scripts && node make_fixtures.mjs
//
// Outputs (all deterministic):
//   corpus.jsonl                     test strings, one {"text": ...} per line
//   smolvlm-tiny/tokenizer.json      SmolLM2/SmolVLM-style tokenizer (BPE trained here, truncated to ~4,000 tokens)
//   gpt2-style/tokenizer.json        plain GPT-2 ByteLevel tokenizer with a BOS template and extra added tokens
//   expected-<name>.jsonl            HF ids with/without special tokens and decoded strings for every corpus line
//   transformersjs-<name>.json       where transformers.js disagrees with HF (HF wins)

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { testCorpus, trainingLines } from './corpus.mjs';

const require = createRequire(import.meta.url);
const hf = require('tokenizers');
const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../fixtures/tokenizer');
const GENERATOR = 'tests/reference/tokenizer/make_fixtures.mjs';
const HF_VERSION = require('tokenizers/package.json').version;

// ---------------------------------------------------------------------------------------------
// 1. Train byte-level BPE merges with HF's trainer (default BpeTrainer: the Node binding exposes no options).
// ---------------------------------------------------------------------------------------------

function trainMerges(preTokenizer, lines, normalizer = null) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'vlmtune-bpe-'));
  const file = path.join(tmp, 'train.txt');
  fs.writeFileSync(file, lines.join('\n') + '\n');
  const tok = new hf.Tokenizer(hf.BPE.empty());
  tok.setPreTokenizer(preTokenizer);
  if (normalizer) tok.setNormalizer(normalizer);
  tok.train([file]);
  const out = path.join(tmp, 'trained.json');
  tok.save(out, false);
  const model = JSON.parse(fs.readFileSync(out, 'utf8')).model;
  fs.rmSync(tmp, { recursive: true, force: true });
  return model.merges.map(m => (Array.isArray(m) ? m : m.split(' ')));
}

/** Vocab = leading specials, the 256 byte-level symbols in byte order, then merge results in merge order. */
function buildModel(specials, merges, targetSize) {
  const vocab = new Map();
  for (const s of specials) vocab.set(s, vocab.size);
  for (const ch of hf.byteLevelAlphabet().sort((a, b) => byteOf(a) - byteOf(b))) vocab.set(ch, vocab.size);
  const kept = [];
  for (const [a, b] of merges) {
    if (vocab.size >= targetSize) break;
    if (!vocab.has(a) || !vocab.has(b) || vocab.has(a + b)) continue;
    vocab.set(a + b, vocab.size);
    kept.push([a, b]);
  }
  return { vocab: Object.fromEntries(vocab), merges: kept };
}

// GPT-2 bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 + n in byte order.
const BYTE_OF = (() => {
  const m = new Map();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    m.set(String.fromCodePoint(printable ? b : 256 + n++), b);
  }
  return m;
})();
function byteOf(ch) { return BYTE_OF.get(ch); }

const bpeModel = (model, extra) => ({
  type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
  fuse_unk: false, byte_fallback: false, ...extra, vocab: model.vocab, merges: model.merges,
});
const byteLevel = (addPrefixSpace, trimOffsets) =>
  ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });
const added = (id, content, special, opts = {}) => ({
  id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special, ...opts,
});

// ---------------------------------------------------------------------------------------------
// 2. The two tokenizer files.
// ---------------------------------------------------------------------------------------------

const SMOLLM2_SPECIALS = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<repo_name>', '<reponame>', '<file_sep>', '<filename>',
  '<gh_stars>', '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>', '<jupyter_text>',
  '<jupyter_code>', '<jupyter_output>', '<jupyter_script>', '<empty_output>',
];

function smolvlmTiny(lines) {
  const pre = {
    type: 'Sequence',
    pretokenizers: [{ type: 'Digits', individual_digits: true }, byteLevel(false, true)],
  };
  const preJs = hf.sequencePreTokenizer([hf.digitsPreTokenizer(true), hf.byteLevelPreTokenizer(false, true)]);
  const model = buildModel(SMOLLM2_SPECIALS, trainMerges(preJs, lines), 4000);
  // SmolVLM's order of addition (smolvlm.md §1.5): <global-img>, <row_r_col_c>, <fake_token_around_image>,
  // <image>, 88 reserved tokens, <end_of_utterance>. All special, not normalized, no strip (§5.3).
  const tokens = SMOLLM2_SPECIALS.map((s, i) => added(i, s, true));
  const extra = ['<global-img>'];
  for (let r = 1; r <= 6; r++) for (let c = 1; c <= 6; c++) extra.push(`<row_${r}_col_${c}>`);
  extra.push('<fake_token_around_image>', '<image>');
  for (let i = 0; i < 88; i++) extra.push(`<|reserved_special_token_${i}|>`);
  extra.push('<end_of_utterance>');
  let next = Object.keys(model.vocab).length;
  for (const s of extra) tokens.push(added(next++, s, true));
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: tokens, normalizer: null,
    pre_tokenizer: pre, post_processor: null, decoder: byteLevel(true, true),
    model: bpeModel(model, { ignore_merges: false, merges: model.merges.map(([a, b]) => `${a} ${b}`) }),
  };
}

function gpt2Style(lines) {
  const preJs = hf.byteLevelPreTokenizer(false, true);
  const model = buildModel([], trainMerges(preJs, lines, hf.sequenceNormalizer([hf.nfcNormalizer()])), 3000);
  const eot = Object.keys(model.vocab).length;
  const tokens = [
    added(eot, '<|endoftext|>', true, { normalized: true }),          // as in GPT-2's own file
    added(eot + 1, '<NOTE>', false, { lstrip: true, rstrip: true, normalized: false }),
    added(eot + 2, 'foo_bar', false, { single_word: true, normalized: true }),
  ];
  const template = {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
    pair: [
      { SpecialToken: { id: '<|endoftext|>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
      { SpecialToken: { id: '<|endoftext|>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } },
    ],
    special_tokens: { '<|endoftext|>': { id: '<|endoftext|>', ids: [eot], tokens: ['<|endoftext|>'] } },
  };
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: tokens,
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFC' }] },
    pre_tokenizer: byteLevel(false, true),
    post_processor: { type: 'Sequence', processors: [byteLevel(true, false), template] },
    decoder: byteLevel(true, true),
    model: bpeModel(model, { ignore_merges: true }),
  };
}

// ---------------------------------------------------------------------------------------------
// 3. Expected outputs from HF, and the transformers.js comparison.
// ---------------------------------------------------------------------------------------------

async function expected(name, json, corpus) {
  const tok = hf.Tokenizer.fromString(JSON.stringify(json));
  for (const t of json.added_tokens) {
    if (tok.tokenToId(t.content) !== t.id) throw new Error(`${name}: HF gives ${t.content} a different id`);
  }
  const rows = [];
  for (let i = 0; i < corpus.length; i++) {
    const text = corpus[i];
    const withSpecial = (await tok.encode(text, null, { addSpecialTokens: true })).getIds();
    const plain = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    const decoded = await tok.decode(plain, false);
    const decodedSkip = await tok.decode(plain, true);
    rows.push({
      i, ids: plain, with_special: specialForm(plain, withSpecial),
      decoded: decoded === text ? null : decoded,
      decoded_skip: decodedSkip === text ? null : decodedSkip,
    });
  }
  return rows;
}

/** null: same ids; {prefix, suffix}: plain ids wrapped; otherwise the full id list. */
function specialForm(plain, withSpecial) {
  if (sameIds(plain, withSpecial)) return null;
  for (let p = 0; p <= withSpecial.length - plain.length; p++) {
    const s = withSpecial.length - plain.length - p;
    if (sameIds(withSpecial.slice(p, p + plain.length), plain)) {
      return { prefix: withSpecial.slice(0, p), suffix: withSpecial.slice(withSpecial.length - s) };
    }
  }
  return withSpecial;
}

function withSpecialIds(row) {
  const w = row.with_special;
  if (w === null) return row.ids;
  if (Array.isArray(w)) return w;
  return [...w.prefix, ...row.ids, ...w.suffix];
}

function sameIds(a, b) { return a.length === b.length && a.every((x, k) => x === b[k]); }

async function transformersJs(name, json, corpus, rows) {
  const { PreTrainedTokenizer } = await import('@huggingface/transformers');
  const tok = new PreTrainedTokenizer(json, { clean_up_tokenization_spaces: false });
  const diffs = [];
  let idDiffs = 0, decodeDiffs = 0;
  for (let i = 0; i < corpus.length; i++) {
    const row = rows[i];
    const ids = tok.encode(corpus[i], { add_special_tokens: true });
    const plain = tok.encode(corpus[i], { add_special_tokens: false });
    const hfDecoded = row.decoded ?? corpus[i];
    const hfDecodedSkip = row.decoded_skip ?? corpus[i];
    const hfIds = withSpecialIds(row);
    const dec = row.ids.length === 0 ? '' : tok.decode(row.ids, { skip_special_tokens: false });
    const decSkip = row.ids.length === 0 ? '' : tok.decode(row.ids, { skip_special_tokens: true });
    const idsDiffer = !sameIds(ids, hfIds) || !sameIds(plain, row.ids);
    const decDiffers = dec !== hfDecoded || decSkip !== hfDecodedSkip;
    if (idsDiffer) idDiffs++;
    if (decDiffers) decodeDiffs++;
    if ((idsDiffer || decDiffers) && diffs.length < 40) {
      diffs.push({ i, text: corpus[i], hf_ids: hfIds, tjs_ids: ids, hf_decoded: hfDecoded, tjs_decoded: dec,
        hf_decoded_skip: hfDecodedSkip, tjs_decoded_skip: decSkip });
    }
  }
  return { generator: GENERATOR, tokenizer: name, strings: corpus.length, id_disagreements: idDiffs,
    decode_disagreements: decodeDiffs, first_examples: diffs };
}

// ---------------------------------------------------------------------------------------------

/** HF offsets (Unicode scalar values) of the first `count` strings, converted to UTF-16 units, flattened. */
async function offsetRows(name, json, corpus, count) {
  const tok = hf.Tokenizer.fromString(JSON.stringify(json));
  const rows = [];
  for (let i = 0; i < count; i++) {
    const text = corpus[i];
    const utf16At = [0];
    for (const ch of text) utf16At.push(utf16At[utf16At.length - 1] + ch.length);
    const enc = await tok.encode(text, null, { addSpecialTokens: true });
    rows.push({ i, offsets: enc.getOffsets().flatMap(([a, b]) => [utf16At[a], utf16At[b]]) });
  }
  return rows;
}

function writeJsonl(file, header, rows) {
  fs.writeFileSync(file, [JSON.stringify(header), ...rows.map(r => JSON.stringify(r))].join('\n') + '\n');
}

const corpus = testCorpus(2200);
const train = trainingLines(30000);
fs.mkdirSync(fixtures, { recursive: true });
writeJsonl(path.join(fixtures, 'corpus.jsonl'), { generator: GENERATOR, count: corpus.length },
  corpus.map(text => ({ text })));

const tjsVersion = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/@huggingface/transformers/package.json'), 'utf8')).version;
for (const [name, json] of [['smolvlm-tiny', smolvlmTiny(train)], ['gpt2-style', gpt2Style(train)]]) {
  fs.mkdirSync(path.join(fixtures, name), { recursive: true });
  fs.writeFileSync(path.join(fixtures, name, 'tokenizer.json'), JSON.stringify(json, null, 2) + '\n');
  const rows = await expected(name, json, corpus);
  writeJsonl(path.join(fixtures, `expected-${name}.jsonl`),
    { generator: GENERATOR, oracle: `tokenizers (npm) ${HF_VERSION}`, tokenizer: `${name}/tokenizer.json`,
      corpus: 'corpus.jsonl', count: rows.length,
      fields: 'ids: encode(text, add_special_tokens=false); with_special: add_special_tokens=true as null (same ids), ' +
        '{prefix, suffix} around ids, or the full list; decoded: decode(ids, skip=false), decoded_skip: decode(ids, skip=true) (null = the input text)' },
    rows);
  writeJsonl(path.join(fixtures, `offsets-${name}.jsonl`),
    { generator: GENERATOR, oracle: `tokenizers (npm) ${HF_VERSION}`, tokenizer: `${name}/tokenizer.json`, corpus: 'corpus.jsonl',
      fields: 'offsets: encode(text, add_special_tokens=true).offsets as flat [start, end, ...] in UTF-16 code units' },
    await offsetRows(name, json, corpus, 600));
  const report = await transformersJs(name, json, corpus, rows);
  report.transformers_js = tjsVersion;
  fs.writeFileSync(path.join(fixtures, `transformersjs-${name}.json`), JSON.stringify(report, null, 1) + '\n');
  console.log(`${name}: vocab ${Object.keys(json.model.vocab).length} + ${json.added_tokens.length} added; ` +
    `transformers.js id disagreements ${report.id_disagreements}, decode ${report.decode_disagreements}`);
}
