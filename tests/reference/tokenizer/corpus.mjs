// Deterministic text generator for the tokenizer fixtures (used by make_fixtures.mjs).
// Every string comes from the hand-written material below, recombined by a seeded PRNG,
// so re-running produces byte-identical files.

export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EN_WORDS = (
  'the of and to in is that it was for on are as with his they at be this from have or by one had not but what all ' +
  'were when we there can an your which their said if do will each about how up out them then she many some so these ' +
  'would other into has more her two like him see time could no make than first been its who now people my made over ' +
  'did down only way find use may water long little very after words called just where most know get through back much ' +
  'before go good new write our used me man too any day same right look think also around another came come work three ' +
  'word must because does part even place well such here take why things help put years different away again off went ' +
  'old number great tell men say small every found still between name should home big give air line set own under read ' +
  'last never us left end along while might next sound below saw something thought both few those always looked show ' +
  'large often together asked house world going want school important until form food keep children feet land side ' +
  'without boy once animals life enough took sometimes four head above kind began almost live page got earth need far ' +
  'hand high year mother light parts country father let night following picture being study second eyes soon times ' +
  'story boys since white days paper hard near sentence better best across during today others however sure means ' +
  'model image vision language training tokenizer token adapter gradient learning rate batch layer weight tensor ' +
  'encoder decoder attention matrix vector function dataset example prompt answer question describe assistant user ' +
  'system photo picture chart document table figure caption object person street building sky tree car dog cat ' +
  "don't can't it's I'm you're we've they'll she'd he's isn't wasn't won't shouldn't I'd we'll you've"
).split(' ');

const EN_SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Can you describe this image in detail?',
  'There are two cats sleeping on a red sofa near the window.',
  'What is written on the sign at the top of the building?',
  'The chart shows revenue growing from 2019 to 2023, with a dip in 2020.',
  "I'm not sure, but it looks like a bridge over a river at sunset.",
  "She said: \"It's fine, we'll meet at 10:30 tomorrow.\"",
  'Fine-tuning a vision-language model with LoRA needs far less memory than full training.',
  'Hello, world!',
  'Mr. O\'Neil\'s dog doesn\'t like the rain; it\'s been raining since Tuesday.',
  'The answer is 42 (forty-two), not 41.',
  'Temperature: 23.5°C, humidity: 61%, wind: 12 km/h NE.',
  'Please list all objects in the picture, separated by commas.',
  'Assistant: The image shows a kitchen with a wooden table and three chairs.',
  'User: How many people are in the photo?',
  'E-mail me at someone@example.com or visit https://example.org/path?query=1&x=y#frag.',
  'Version 3.14.159-rc.2 was released on 2024-06-01T12:00:00Z.',
  'WHY ARE YOU SHOUTING?!?! calm down...',
  'A long time ago, in a galaxy far, far away....',
  'It costs $1,299.99 or €1.199,00 — whichever is cheaper.',
];

const VI_SENTENCES = [
  'Xin chào, tôi là trợ lý ảo.',
  'Hình ảnh này cho thấy một con mèo đang ngủ trên ghế sofa.',
  'Bạn có thể mô tả bức tranh này không?',
  'Tiếng Việt có nhiều dấu thanh: sắc, huyền, hỏi, ngã, nặng.',
  'Hà Nội là thủ đô của Việt Nam, còn Thành phố Hồ Chí Minh là thành phố lớn nhất.',
  'Người ta nói rằng trời hôm nay đẹp quá.',
  'Phở bò và bánh mì là những món ăn nổi tiếng.',
  'Cảm ơn bạn rất nhiều!',
];

const ZH_SENTENCES = [
  '你好，世界！',
  '这张图片里有一只猫在沙发上睡觉。',
  '请详细描述这幅图像。',
  '机器学习模型需要大量的训练数据。',
  '今天天气很好，我们去公园散步吧。',
  '北京是中国的首都，上海是最大的城市。',
  '图中显示了2023年的销售额增长了15%。',
  '视觉语言模型可以回答关于图片的问题。',
];

const OTHER_SENTENCES = [
  'こんにちは、世界。これは日本語のテキストです。',
  '안녕하세요, 세계! 한국어 문장입니다.',
  'Привет, мир! Это предложение на русском языке.',
  'Γειά σου Κόσμε! Αυτή είναι μια ελληνική πρόταση.',
  'مرحبا بالعالم! هذه جملة باللغة العربية.',
  'שלום עולם! זה משפט בעברית.',
  'नमस्ते दुनिया! यह हिंदी में एक वाक्य है।',
  'สวัสดีชาวโลก นี่คือประโยคภาษาไทย',
  'Grüß Gott! Die Straße ist schön, aber die Brücke ist größer.',
  'Ça va ? Où est la bibliothèque ? C\'est très élégant.',
  '¿Dónde está el baño? ¡Muchas gracias, señor!',
  'Zażółć gęślą jaźń. Čeština, slovenčina, magyar nyelv: árvíztűrő tükörfúrógép.',
  'Türkçe: Iğdır, ışık, şeker, çiçek, öğrenci.',
];

const EMOJI = [
  '😀', '😂', '🥲', '👍', '👍🏽', '👋🏿', '❤️', '🔥', '✨', '🎉', '🚀', '🐱', '🐶', '🍕', '🌍',
  '👨‍👩‍👧‍👦', '👩‍💻', '🧑🏾‍🚀', '🏳️‍🌈', '🏴‍☠️', '👁️‍🗨️', '❤️‍🔥', '🇻🇳', '🇺🇸', '🇯🇵', '🇪🇺',
  '1️⃣', '#️⃣', '©️', '™️', '☕', '⚡', '🤖', '🧠', '📷', '🖼️',
];

const CODE = [
  'def add(a, b):\n    return a + b\n',
  'for (int i = 0; i < n; i++) {\n\tsum += x[i] * w[i];\n}',
  'public static int[] Encode(string text) => _tokenizer.Encode(text).ToArray();',
  'import numpy as np\nx = np.zeros((3, 4), dtype=np.float32)\nprint(x.shape)',
  'const f = async (url) => { const r = await fetch(url); return r.json(); };',
  '#include <stdio.h>\nint main(void) { printf("%d\\n", 42); return 0; }',
  'SELECT id, name FROM users WHERE age >= 18 ORDER BY name DESC LIMIT 10;',
  '{"model": "smolvlm", "lora_rank": 8, "lr": 1e-4, "targets": ["q_proj", "v_proj"]}',
  '<div class="row"><img src="cat.png" alt="A cat"/></div>',
  'fn main() {\n    let v: Vec<u32> = (0..10).map(|i| i * i).collect();\n}',
  'if (x != null && x.Length > 0) { return x[0]; } else { throw new ArgumentException(nameof(x)); }',
  '    // indented comment\n        deeper();\n',
  'git commit -m "Fix off-by-one in merges"  &&  dotnet test -c Release',
  'x=1;y=2;z=x**y//3%4|5&6^~7<<8>>9',
  'matrix[i][j] += alpha * (a[i][k] * b[k][j]) - beta;',
  'while True:\r\n    pass\r\n',
  '$ ls -la /usr/local/bin | grep -E "^-rwx" | wc -l',
  'SELECT\t*\tFROM\tt;\t\t-- tabs',
];

const SPECIAL_SNIPPETS = [
  'a<image>b',
  '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  '<|im_start|>User:<image>Can you describe this image?<end_of_utterance>\nAssistant:',
  '<|im_start|>User:<image>Q?<end_of_utterance>\nAssistant: A<end_of_utterance>\n',
  '<fake_token_around_image><row_1_col_1><image><image><fake_token_around_image><row_1_col_2><image><image>\n',
  '\n<fake_token_around_image><global-img><image><image><image><fake_token_around_image>',
  '<row_1_col_2>',
  '<row_6_col_6> and <row_7_col_1> (the second one does not exist)',
  'text<|endoftext|>more text',
  '<|endoftext|>',
  '<|endoftext|><|endoftext|>',
  ' <image> ',
  '<image<image>>',
  '<<image>>',
  '<imag',
  'image>',
  '<|reserved_special_token_0|><|reserved_special_token_87|><|reserved_special_token_88|>',
  '<repo_name>vlmtune<file_sep>src/Tokenizer.cs<gh_stars>1000',
  '<jupyter_start><jupyter_code>print(1)<jupyter_output>1<empty_output>',
  '<end_of_utterance><end_of_utterance>',
  'Hello <NOTE> world',
  'Hello<NOTE>world',
  'a  <NOTE>  b',
  '<NOTE>',
  '\t<NOTE>\n',
  'foo_bar',
  'a foo_bar b',
  'afoo_bar',
  'foo_bars',
  '(foo_bar)',
  'foo_bar.foo_bar,foo_bar',
  'é foo_bar ẹ',
  'x\u0301foo_bar',
  '_foo_bar_',
  'foo_bar<NOTE>foo_bar',
  '<|endoftext|>foo_bar<|endoftext|>',
];

const WHITESPACE = [
  '', ' ', '  ', '   ', '\t', '\n', '\r\n', '\n\n', '\n\n\n', ' \n ', '\t\t\tx', 'x\t\t\t',
  '   leading spaces', 'trailing spaces   ', '  both  ', 'a\u00a0b', 'a\u3000b', 'a\u2028b', 'a\u0085b',
  'a\u200bb', 'a \u00a0 b', 'word\r\nword\r\n\r\nword', 'line1\nline2\n\nline4\n', ' \t \n \r\n x',
  'a  b   c    d', 'end with newline\n', '\n\nstart with newlines', '\u2003em space\u2009thin', 'x \ny',
  '\r', '\r\r\n\n', '\f\v', 'tab\tseparated\tvalues', ' ', '\n ', ' \n',
];

const COMBINING = [
  'e\u0301', 'cafe\u0301', 'Ha\u0300 No\u0323i', 'n\u0303', 'a\u0308\u0304', 'Z\u0351\u0310\u0357a\u0352\u035dl\u0315g\u0351o',
  'q\u0307\u0323', '\u0301alone', 'x\u20dd', 'ặ vs a\u0323\u0306', 'Việt vs Vie\u0323\u0302t',
];

const LONG = [
  'a'.repeat(300),
  'Donaudampfschifffahrtselektrizitätenhauptbetriebswerkbauunterbeamtengesellschaft',
  'pneumonoultramicroscopicsilicovolcanoconiosis'.repeat(3),
  'x'.repeat(50) + 'y'.repeat(50),
  '这是一个非常长的中文句子没有任何标点符号用来测试长词的切分是否正确'.repeat(2),
  'ab'.repeat(120),
  '0123456789'.repeat(12),
  '-'.repeat(80),
  '=' .repeat(40) + '\n' + '='.repeat(40),
  'supercalifragilisticexpialidocious',
  'https://example.com/' + 'very/long/path/'.repeat(10) + 'index.html',
];

const ODD = [
  'It\'s', "'s", "'S", "we'RE", "'ll've'd", "''", "'", "rock'n'roll", 'O\'Reilly\'s',
  '¹²³', '½ ¾', 'Ⅻ', '٣٤٥', '१२३', '①②③', 'x²+y²=z²', '0x1F600', '1e-9', '-0.0', '+1', '3.14159265358979',
  '\uFFFD', '\u0000', 'a\u0001b', '\u007f', 'Ⓐⓑ', '\uD835\uDC00\uD835\uDC01', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'ﬁ ﬂ', 'Å vs Å',
  '_underscore_', '__init__', 'snake_case_name', 'camelCaseName', 'PascalCaseName', 'kebab-case-name',
  '...', '!!!', '???', '—–-', '«»“”‘’', '()[]{}<>', '@#$%^&*', '~`|\\', ' .', ' ,', ' !',
];

const NUMBERS = () => [
  '12345', '1,234,567', '3.14', '2024-01-31', '007', '1000000000000', '9'.repeat(40), 'v1.2.3',
  'call 555-0100', 'room 101b', '4x4', '1080p', 'COVID-19', 'ISO 8601', '#42', '50%', '$5', '10:45pm',
];

function pick(rng, arr) { return arr[Math.floor(rng() * arr.length)]; }

function randomEnglish(rng) {
  const n = 3 + Math.floor(rng() * 14);
  const words = [];
  for (let i = 0; i < n; i++) {
    let w = pick(rng, EN_WORDS);
    if (i === 0 || rng() < 0.05) w = w[0].toUpperCase() + w.slice(1);
    if (rng() < 0.03) w = w.toUpperCase();
    words.push(w);
    if (rng() < 0.08) words.push(pick(rng, [',', ';', ' -', ':']));
    if (rng() < 0.04) words.push(String(Math.floor(rng() * 100000)));
  }
  let s = words.join(' ').replace(/ ([,;:])/g, '$1');
  s += pick(rng, ['.', '.', '.', '?', '!', '', '...']);
  return s;
}

function randomMixed(rng) {
  const parts = [];
  const n = 2 + Math.floor(rng() * 4);
  for (let i = 0; i < n; i++) {
    const r = rng();
    if (r < 0.3) parts.push(randomEnglish(rng));
    else if (r < 0.4) parts.push(pick(rng, VI_SENTENCES));
    else if (r < 0.5) parts.push(pick(rng, ZH_SENTENCES));
    else if (r < 0.58) parts.push(pick(rng, OTHER_SENTENCES));
    else if (r < 0.68) parts.push(pick(rng, EMOJI) + pick(rng, EMOJI));
    else if (r < 0.78) parts.push(pick(rng, CODE));
    else if (r < 0.85) parts.push(pick(rng, NUMBERS()));
    else if (r < 0.9) parts.push(pick(rng, ODD));
    else if (r < 0.95) parts.push(pick(rng, COMBINING));
    else parts.push(pick(rng, EN_SENTENCES));
  }
  const seps = [' ', ' ', ' ', '\n', '  ', '\t', '\r\n', '\n\n', ''];
  return parts.map((p, i) => (i === 0 ? '' : pick(rng, seps)) + p).join('');
}

/** The test corpus: every hand-written case once, then seeded random mixtures. */
export function testCorpus(count) {
  const rng = mulberry32(20240601);
  const fixed = [
    ...EN_SENTENCES, ...VI_SENTENCES, ...VI_SENTENCES.map(s => s.normalize('NFD')), ...ZH_SENTENCES,
    ...OTHER_SENTENCES, ...EMOJI, EMOJI.join(''), EMOJI.join(' '), ...CODE, ...SPECIAL_SNIPPETS, ...WHITESPACE,
    ...COMBINING, ...LONG, ...ODD, ...NUMBERS(),
  ];
  const out = [...fixed];
  while (out.length < count) {
    const r = rng();
    if (r < 0.45) out.push(randomMixed(rng));
    else if (r < 0.7) out.push(randomEnglish(rng));
    else if (r < 0.8) {
      // special tokens embedded in random text
      const a = randomEnglish(rng), b = pick(rng, SPECIAL_SNIPPETS), c = pick(rng, [...VI_SENTENCES, ...ZH_SENTENCES]);
      out.push(pick(rng, ['', ' ', '\n']) + a + pick(rng, ['', ' ']) + b + pick(rng, ['', ' ', '\n']) + c);
    } else if (r < 0.87) {
      const ws = pick(rng, [' ', '  ', '\t', '\n', '\r\n', ' \n', '\n\n ', '   \t']);
      out.push(ws + randomEnglish(rng) + ws + pick(rng, CODE) + ws);
    } else if (r < 0.93) {
      let s = '';
      const n = 1 + Math.floor(rng() * 6);
      for (let i = 0; i < n; i++) s += pick(rng, EMOJI) + pick(rng, ['', ' ', '\u200d', 'x', '1']);
      out.push(s);
    } else {
      out.push(String(Math.floor(rng() * 1e9)) + pick(rng, ['', ' ', '.', ',']) + String(Math.floor(rng() * 1e6)));
    }
  }
  return out;
}

/** The BPE training text: a larger, differently seeded mixture (no special tokens). */
export function trainingLines(count) {
  const rng = mulberry32(7);
  const out = [...EN_SENTENCES, ...VI_SENTENCES, ...ZH_SENTENCES, ...OTHER_SENTENCES, ...CODE];
  while (out.length < count) {
    const r = rng();
    if (r < 0.55) out.push(randomEnglish(rng));
    else if (r < 0.85) out.push(randomMixed(rng));
    else if (r < 0.92) out.push(pick(rng, CODE));
    else out.push(pick(rng, [...VI_SENTENCES, ...ZH_SENTENCES, ...OTHER_SENTENCES]));
  }
  return out;
}
