// Writes tests/fixtures/parquet/ with DuckDB's parquet writer (independent of Parquet.Net, which VlmTune reads with).
// The layouts are those `datasets` / TRL push to the Hub: list<struct<role, content: list<struct<type, text>>>> messages,
// the Image feature as struct<bytes: binary, path: string>, prompt/completion, prompt/chosen/rejected, a single image.
// Every file has row groups of 2 rows so lazy row-group reading is exercised; images are PNG and JPEG bytes from
// tests/fixtures. What DuckDB wrote is read back (row groups, rows) into tests/fixtures/parquet/manifest.json.
//
//   cd tests/reference/parquet && npm install @duckdb/node-api@1.5.6-r.1 && node make_parquet.mjs
import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..', '..');
const out = join(repo, 'tests', 'fixtures', 'parquet');
const img = {
  wide: join(repo, 'tests/fixtures/data/images/wide.png'),
  tall: join(repo, 'tests/fixtures/data/images/tall.png'),
  jpeg: join(repo, 'tests/fixtures/images/jpeg/base_420_48x40.jpg'),
  gray: join(repo, 'tests/fixtures/images/jpeg/base_gray_17x13.jpg'),
};

const db = await (await DuckDBInstance.create(':memory:')).connect();
const run = (sql) => db.run(sql);
await db.run('SET threads = 1');
const all = async (sql) => (await db.runAndReadAll(sql)).getRowObjectsJson();

rmSync(out, { recursive: true, force: true });
for (const d of ['sft/data', 'dpo/data', 'flat', 'bad']) mkdirSync(join(out, d), { recursive: true });

const T = `STRUCT(type VARCHAR, text VARCHAR)`;
const MSG = `STRUCT(role VARCHAR, content ${T}[])`;
const IMAGE = `STRUCT(bytes BLOB, path VARCHAR)`;
const blob = (name) => `(SELECT content FROM read_blob('${img[name]}'))`;
const image = (name) => `{'bytes': ${blob(name)}, 'path': '${name}.${name === 'jpeg' || name === 'gray' ? 'jpg' : 'png'}'}::${IMAGE}`;
const text = (s) => `{'type': 'text', 'text': '${s.replaceAll("'", "''")}'}`;
const imagePart = `{'type': 'image', 'text': NULL}`;
const msg = (role, ...parts) => `{'role': '${role}', 'content': [${parts.join(', ')}]::${T}[]}`;

// Writes one file from rows of SQL expressions (column → expression), 2 rows per row group.
async function write(file, columns, rows) {
  const selects = rows.map((r, i) =>
    `SELECT ${i} AS _i, ${columns.map(([c, type]) => `CAST(${r[c] ?? 'NULL'} AS ${type}) AS "${c}"`).join(', ')}`);
  // Each UNION branch (two rows, sorted) reaches the writer as its own chunk, so ROW_GROUP_SIZE 2 is honoured (rows
  // from one big chunk would share a row group); one thread keeps the file order.
  const names = columns.map(([c]) => `"${c}"`).join(', ');
  const pairs = [];
  for (let i = 0; i < selects.length; i += 2)
    pairs.push(`(SELECT ${names} FROM (${selects.slice(i, i + 2).join(' UNION ALL ')}) ORDER BY _i)`);
  await run(`COPY (${pairs.join(' UNION ALL ')}) TO '${join(out, file)}' ` +
            `(FORMAT parquet, ROW_GROUP_SIZE 2, COMPRESSION snappy)`);
}

// SFT, conversational with an images column, two shards (5 + 3 rows).
const sftColumns = [['messages', `${MSG}[]`], ['images', `${IMAGE}[]`]];
const sft = [
  { messages: `[${msg('user', imagePart, text('What colour is the left edge?'))}, ${msg('assistant', text('It is dark blue.'))}]`, images: `[${image('wide')}]` },
  { messages: `[${msg('user', imagePart, text('Is it tall?'))}, ${msg('assistant', text('Yes.'))}]`, images: `[${image('tall')}]` },
  { messages: `[${msg('system', text('Answer briefly.'))}, ${msg('user', imagePart, imagePart, text('Which is taller?'))}, ${msg('assistant', text('The second.'))}]`, images: `[${image('jpeg')}, ${image('tall')}]` },
  { messages: `[${msg('user', text('Say hi.'))}, ${msg('assistant', text('Hi.'))}]`, images: `[]` },
  { messages: `[${msg('user', imagePart, text('Colour or gray?'))}, ${msg('assistant', text('Gray.'))}]`, images: `[${image('gray')}]` },
  { messages: `[${msg('user', imagePart, text('Describe the picture.'))}, ${msg('assistant', text('Stripes.'))}]`, images: `[${image('jpeg')}]` },
  { messages: `[${msg('user', text('Count to two.'))}, ${msg('assistant', text('One, two.'))}]`, images: `NULL` },
  { messages: `[${msg('user', imagePart, text('Wide or tall?'))}, ${msg('assistant', text('Wide.'))}]`, images: `[${image('wide')}]` },
];
await write('sft/data/train-00000-of-00002.parquet', sftColumns, sft.slice(0, 5));
await write('sft/data/train-00001-of-00002.parquet', sftColumns, sft.slice(5));
await write('sft/data/test-00000-of-00001.parquet', sftColumns, [sft[1], sft[3]]);

// DPO, conversational prompt with images, chosen/rejected as assistant message lists.
const dpoColumns = [['prompt', `${MSG}[]`], ['chosen', `${MSG}[]`], ['rejected', `${MSG}[]`], ['images', `${IMAGE}[]`]];
await write('dpo/data/train-00000-of-00001.parquet', dpoColumns, [
  { prompt: `[${msg('user', imagePart, text('Is this image wide?'))}]`, chosen: `[${msg('assistant', text('Yes, it is wider than tall.'))}]`, rejected: `[${msg('assistant', text('No.'))}]`, images: `[${image('wide')}]` },
  { prompt: `[${msg('user', imagePart, text('Is this image wide?'))}]`, chosen: `[${msg('assistant', text('No, it is tall.'))}]`, rejected: `[${msg('assistant', text('Yes.'))}]`, images: `[${image('tall')}]` },
  { prompt: `[${msg('user', imagePart, text('Is it a photo?'))}]`, chosen: `[${msg('assistant', text('It is a JPEG.'))}]`, rejected: `[${msg('assistant', text('It is a PNG.'))}]`, images: `[${image('jpeg')}]` },
]);

// Flat string columns: prompt/completion with a single image column (Image feature), plain-string messages,
// and string prompt/chosen/rejected with a single image.
await write('flat/prompt_completion.parquet', [['prompt', 'VARCHAR'], ['completion', 'VARCHAR'], ['image', IMAGE]], [
  { prompt: `'What colour is the left edge?'`, completion: `'Dark blue.'`, image: image('wide') },
  { prompt: `'<image>Is it tall?'`, completion: `'Yes.'`, image: image('tall') },
  { prompt: `'No picture here.'`, completion: `'Fine.'`, image: 'NULL' },
]);
await write('flat/string_messages.parquet', [['messages', 'STRUCT(role VARCHAR, content VARCHAR)[]'], ['images', `${IMAGE}[]`]], [
  { messages: `[{'role': 'user', 'content': '<image>What is this?'}, {'role': 'assistant', 'content': 'A gray JPEG.'}]`, images: `[${image('gray')}]` },
  { messages: `[{'role': 'user', 'content': 'Hello'}, {'role': 'assistant', 'content': 'Hi!'}]`, images: `[]` },
]);
await write('flat/dpo_strings.parquet', [['prompt', 'VARCHAR'], ['chosen', 'VARCHAR'], ['rejected', 'VARCHAR'], ['image', IMAGE]], [
  { prompt: `'<image>Is this image wide?'`, chosen: `'Yes.'`, rejected: `'No.'`, image: image('wide') },
  { prompt: `'<image>Is this image wide?'`, chosen: `'No.'`, rejected: `'Yes.'`, image: image('tall') },
]);

// Bad records: row 1 of row group 1 (the 4th row) has an unknown content type; row 0 of row group 0 is fine.
await write('bad/train.parquet', sftColumns, [
  sft[0], sft[1], sft[3],
  { messages: `[${msg('user', `{'type': 'video', 'text': NULL}`, text('What happens?'))}, ${msg('assistant', text('A cat.'))}]`, images: `[]` },
]);
await write('bad/not_an_image.parquet', sftColumns, [
  { messages: `[${msg('user', imagePart, text('?'))}, ${msg('assistant', text('!'))}]`, images: `[{'bytes': 'not an image'::BLOB, 'path': NULL}::${IMAGE}]` },
]);
await write('bad/no_columns.parquet', [['question', 'VARCHAR'], ['answer', 'VARCHAR']], [{ question: `'q'`, answer: `'a'` }]);

// What DuckDB itself reads back: per file, the row groups and their row counts.
const manifest = {};
for (const row of await all(`SELECT file_name, row_group_id, row_group_num_rows FROM parquet_metadata('${out}/**/*.parquet') ` +
                            `GROUP BY ALL ORDER BY file_name, row_group_id`)) {
  const key = row.file_name.slice(out.length + 1);
  (manifest[key] ??= []).push(Number(row.row_group_num_rows));
}
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ generator: 'tests/reference/parquet/make_parquet.mjs', duckdb: '@duckdb/node-api 1.5.6-r.1', row_groups: manifest }, null, 1) + '\n');
console.log(manifest);
