#!/usr/bin/env python3
"""Writes the small dataset fixtures under tests/fixtures/data/ (generator for every file listed in its README).

Standard library only (zlib + struct PNG writer), so it runs anywhere python3 exists:
    python3 tests/reference/data/make_fixtures.py
Output is byte-identical on re-runs. The tiny-model/ folder is not written here (see its README).
"""
import json
import os
import struct
import zlib

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "data")


def png(path, width, height, pixel):
    """8-bit RGB PNG, filter 0 on every row; pixel(x, y) -> (r, g, b)."""
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        for x in range(width):
            raw.extend(pixel(x, y))

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(bytes(raw), 9)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def text(t):
    return {"type": "text", "text": t}


def write_jsonl(name, records):
    with open(os.path.join(ROOT, name), "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def main():
    os.makedirs(os.path.join(ROOT, "images"), exist_ok=True)
    # 40x24 landscape: stage 1 -> 64x38, stage 2 -> 64x64, a 2x2 split + global = 5 tiles with the tiny model.
    png(os.path.join(ROOT, "images", "wide.png"), 40, 24, lambda x, y: (x * 6, y * 10, 128))
    # 20x50 portrait: stage 1 -> 26x64, stage 2 -> 32x64, a 2x1 split + global = 3 tiles.
    png(os.path.join(ROOT, "images", "tall.png"), 20, 50, lambda x, y: (255 - y * 5, x * 12, (x * y) % 256))

    write_jsonl("sft.jsonl", [
        {"messages": [
            {"role": "user", "content": [{"type": "image"}, text("What colour is the left edge?")]},
            {"role": "assistant", "content": [text("It is dark blue.")]}],
         "images": ["images/wide.png"]},
        {"messages": [
            {"role": "system", "content": "Answer briefly."},
            {"role": "user", "content": [{"type": "image"}, {"type": "image"}, text("Which image is taller?")]},
            {"role": "assistant", "content": [text("The second one.")]},
            {"role": "user", "content": [text("And the first?")]},
            {"role": "assistant", "content": [text("It is wide, not tall.")]}],
         "images": ["images/wide.png", "images/tall.png"]},
        {"messages": [
            {"role": "user", "content": "<image>Describe the picture."},
            {"role": "assistant", "content": "A red and green gradient."}],
         "images": ["images/tall.png"]},
        {"messages": [
            {"role": "user", "content": "Say hello."},
            {"role": "assistant", "content": "Hello!"}]},
    ])
    write_jsonl("prompt_completion.jsonl", [
        {"prompt": [{"role": "user", "content": [{"type": "image"}, text("Colour?")]}],
         "completion": [{"role": "assistant", "content": [text("Blue.")]}],
         "images": ["images/wide.png"]},
        {"prompt": "<image>How many tiles?", "completion": "Three.", "images": ["images/tall.png"]},
    ])
    write_jsonl("dpo.jsonl", [
        {"prompt": [{"role": "user", "content": [{"type": "image"}, text("Is this image wide?")]}],
         "chosen": [{"role": "assistant", "content": [text("Yes, it is wider than tall.")]}],
         "rejected": [{"role": "assistant", "content": [text("No.")]}],
         "images": ["images/wide.png"]},
        {"prompt": "<image>Is this image wide?", "chosen": "No, it is tall.", "rejected": "Yes, very wide indeed.",
         "images": ["images/tall.png"]},
    ])


if __name__ == "__main__":
    main()
