"""A small byte-level BPE encoder for the ASCII prompts of the model fixtures.

It reads tests/fixtures/tokenizer/smolvlm-tiny/tokenizer.json and reproduces, for ASCII text only, what HF
`tokenizers` does with that file: added (special) tokens are matched as whole strings first; the rest goes through
the pre-tokenizer Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False, use_regex=True)]
(GPT-2 split pattern; for ASCII, \\p{L} = [A-Za-z] and \\p{N} = [0-9]), bytes are mapped to the GPT-2 byte
alphabet, and merges are applied by rank. `self_check` compares it against the committed HF-oracle ids
(tests/fixtures/tokenizer/expected-smolvlm-tiny.jsonl) for every ASCII line of the tokenizer corpus.
"""

import json
import re

_SPLIT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def _byte_alphabet():
    """GPT-2's reversible byte -> unicode-character table."""
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    chars, extra = {}, 0
    for b in range(256):
        if b in keep:
            chars[b] = chr(b)
        else:
            chars[b] = chr(256 + extra)
            extra += 1
    return chars


class TinyBpe:
    def __init__(self, tokenizer_json_path):
        with open(tokenizer_json_path, encoding="utf-8") as f:
            spec = json.load(f)
        model = spec["model"]
        self.vocab = model["vocab"]
        self.ranks = {tuple(m if isinstance(m, list) else m.split(" ")): i for i, m in enumerate(model["merges"])}
        self.added = {a["content"]: a["id"] for a in spec["added_tokens"]}
        self.id_to_token = {i: s for s, i in self.vocab.items()}
        self.id_to_token.update({i: s for s, i in self.added.items()})
        self.bytes_map = _byte_alphabet()
        # longest first so that e.g. "<image>" never shadows a longer token starting the same way
        alternatives = sorted(self.added, key=len, reverse=True)
        self.added_re = re.compile("|".join(re.escape(a) for a in alternatives))

    def token_id(self, content):
        return self.added[content] if content in self.added else self.vocab[content]

    def _bpe(self, word):
        parts = list(word)
        while len(parts) > 1:
            best = None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best is None or r < best[0]):
                    best = (r, i)
            if best is None:
                break
            i = best[1]
            parts[i:i + 2] = [parts[i] + parts[i + 1]]
        return [self.vocab[p] for p in parts]

    def _encode_plain(self, text):
        ids = []
        # Digits(individual_digits=True) isolates every digit; ByteLevel's regex then splits each piece.
        for piece in re.split(r"([0-9])", text):
            if not piece:
                continue
            for word in _SPLIT.findall(piece):
                ids += self._bpe("".join(self.bytes_map[b] for b in word.encode("utf-8")))
        return ids

    def encode(self, text):
        if any(ord(c) > 127 for c in text):
            raise ValueError("TinyBpe handles ASCII text only: " + repr(text))
        ids, pos = [], 0
        for m in self.added_re.finditer(text):
            ids += self._encode_plain(text[pos:m.start()])
            ids.append(self.added[m.group(0)])
            pos = m.end()
        return ids + self._encode_plain(text[pos:])

    def self_check(self, corpus_path, expected_path):
        """Returns the number of ASCII corpus lines whose ids equal the HF oracle's; raises on any mismatch."""
        with open(corpus_path, encoding="utf-8") as f:
            texts = [json.loads(line).get("text") for line in f][1:]
        with open(expected_path, encoding="utf-8") as f:
            expected = [json.loads(line) for line in f][1:]
        checked = 0
        for row in expected:
            text = texts[row["i"]]
            if text is None or any(ord(c) > 127 for c in text):
                continue
            got = self.encode(text)
            if got != row["ids"]:
                raise AssertionError(f"TinyBpe disagrees with HF on corpus line {row['i']}: {text!r}\n{got}\n{row['ids']}")
            checked += 1
        return checked
