#!/usr/bin/python3
"""Golden fixtures for VlmTune.Processing (tests/VlmTune.Processing.Tests).

Run:   /usr/bin/python3 tests/reference/processor/make_fixtures.py      (from the repository root)
Needs: Debian bookworm python3-pil 9.4.0 and python3-numpy 1.24 (apt-get install -y python3-pil python3-numpy).
Writes tests/fixtures/processor/ (deterministic: same bytes on every run):

  inputs/<name>.ppm           synthetic RGB inputs (binary P6), gradients + noise + hard edges so rounding
                              and the uint8 clamp of Pillow's LANCZOS both matter
  resize/<case>.ppm           Image.resize((w, h), filter) outputs of Pillow 9.4 (reducing_gap=None, box=None)
  resize_cases.json           which input, target size and filter produced each resize/<case>.ppm
  tiles/<case>.ppm            the whole SmolVLM slow-processor pipeline up to (not including) rescale/normalise:
                              uint8 tiles stacked top to bottom (width M, height tiles*M), global image last
  processor_cases.json        config, stage sizes, rows, cols and tile count of each tiles/<case>.ppm
  shapes.json                 stage sizes / rows / cols / tile counts only (no pixels) for the real 256M settings
                              (2048 / 512) and the 2.2B settings (1536 / 384)
  normalize.json              float32 bit patterns of HF rescale-then-normalise for all 256 uint8 values

The processor logic below is a re-implementation of transformers'
src/transformers/models/smolvlm/image_processing_smolvlm.py (slow, PIL-based SmolVLMImageProcessor:
_resize_output_size_rescale_to_max_len, _resize_output_size_scale_below_upper_bound, resize,
resize_for_vision_encoder, split_image, preprocess) and of image_transforms.py (rescale: float64 multiply then
float32 cast; normalize: float32 (x - mean) / std). transformers itself is not installed here (no PyPI).
"""
import json
import math
import os
import sys

import numpy as np
import PIL
from PIL import Image

GENERATOR = "tests/reference/processor/make_fixtures.py"
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "processor")

FILTERS = {"lanczos": Image.LANCZOS, "bicubic": Image.BICUBIC, "bilinear": Image.BILINEAR,
           "box": Image.BOX, "hamming": Image.HAMMING}
MAX_IMAGE_SIZE = 4096  # image_processing_smolvlm.py: absolute cap, a no-op for the configs used here


# ----------------------------------------------------------------------------------------------- images

def synthetic(width, height, seed):
    """Gradient + uniform noise + a few hard-edged blocks (to push LANCZOS lobes past 0 and 255)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    fx = x / max(width - 1, 1)
    fy = y / max(height - 1, 1)
    img = np.empty((height, width, 3), dtype=np.float64)
    img[..., 0] = 255 * fx
    img[..., 1] = 255 * fy
    img[..., 2] = 255 * (0.5 + 0.5 * np.sin(7 * fx + 5 * fy + seed))
    img += rng.uniform(-40, 40, size=img.shape)
    # hard edges: a checkerboard of saturated blocks over a third of the image
    block = max(1, min(width, height) // 4)
    checker = ((x // block + y // block) % 2 == 0) & (x < width / 3 + 1)
    img[checker] = [255, 0, 255] if seed % 2 else [0, 255, 0]
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


INPUTS = [  # (name, width, height)
    ("px1x1", 1, 1), ("px2x3", 2, 3), ("px3x2", 3, 2), ("px5x1", 5, 1), ("px1x5", 1, 5),
    ("wide300x7", 300, 7), ("tall7x300", 7, 300), ("px100x80", 100, 80), ("px513x512", 513, 512),
    ("px17x13", 17, 13), ("px31x47", 31, 47), ("px64x64", 64, 64), ("px65x33", 65, 33),
    ("px16x16", 16, 16), ("px15x16", 15, 16), ("px127x128", 127, 128), ("px200x50", 200, 50),
    ("px50x200", 50, 200), ("px33x97", 33, 97), ("px97x33", 97, 33), ("px48x64", 48, 64),
    ("px160x120", 160, 120), ("px9x9", 9, 9),
]


def write_ppm(path, arr):
    h, w, _ = arr.shape
    with open(path, "wb") as f:
        f.write(b"P6\n# generator: %s\n%d %d\n255\n" % (GENERATOR.encode(), w, h))
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def pil_resize(arr, width, height, filt=Image.LANCZOS):
    # image_processing_smolvlm.py resize(): to_pil_image (uint8 → no rescale) then Image.resize((w, h), resample)
    return np.array(Image.fromarray(arr, mode="RGB").resize((width, height), resample=filt))


# -------------------------------------------------------------------------- SmolVLM slow processor logic

def rescale_to_max_len(height, width, max_len, min_len=1):
    aspect_ratio = width / height
    if width >= height:
        width = max_len
        height = int(width / aspect_ratio)
        if height % 2 != 0:
            height += 1
    elif height > width:
        height = max_len
        width = int(height * aspect_ratio)
        if width % 2 != 0:
            width += 1
    return max(height, min_len), max(width, min_len)


def scale_below_upper_bound(height, width, max_len):
    aspect_ratio = width / height
    if width >= height and width > max_len:
        width = max_len
        height = int(width / aspect_ratio)
    elif height > width and height > max_len:
        height = max_len
        width = int(height * aspect_ratio)
    return max(height, 1), max(width, 1)


def stage1_size(height, width, longest_edge):
    h, w = rescale_to_max_len(height, width, longest_edge)
    return scale_below_upper_bound(h, w, MAX_IMAGE_SIZE)


def stage2_size(height, width, m):
    aspect_ratio = width / height
    if width >= height:
        width = math.ceil(width / m) * m
        height = int(width / aspect_ratio)
        height = math.ceil(height / m) * m
    elif height > width:
        height = math.ceil(height / m) * m
        width = int(height * aspect_ratio)
        width = math.ceil(width / m) * m
    return height, width


def split(image, m):
    height, width = image.shape[:2]
    frames = []
    if height > m or width > m:
        rows, cols = math.ceil(height / m), math.ceil(width / m)
        oh, ow = math.ceil(height / rows), math.ceil(width / cols)
        for r in range(rows):
            for c in range(cols):
                x0, y0 = c * ow, r * oh
                frames.append(image[y0:min(y0 + oh, height), x0:min(x0 + ow, width)])
        if height != m or width != m:
            image = pil_resize(image, m, m)
    else:
        rows = cols = 0
    frames.append(image)
    return frames, rows, cols


def convert_to_rgb(arr):
    # image_processing_smolvlm.py convert_to_rgb: RGBA, alpha_composite over white, back to RGB
    rgba = Image.fromarray(arr, mode="RGB").convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255))
    return np.array(Image.alpha_composite(background, rgba).convert("RGB"))


def process(arr, longest_edge, m, do_resize=True, do_image_splitting=True):
    """uint8 frames (tiles then global) + rows, cols + stage sizes, as SmolVLMImageProcessor.preprocess."""
    h0, w0 = arr.shape[:2]
    image, s1 = arr, None
    if do_resize:
        h1, w1 = stage1_size(h0, w0, longest_edge)
        image, s1 = pil_resize(image, w1, h1), (w1, h1)
    if do_image_splitting:
        h2, w2 = stage2_size(image.shape[0], image.shape[1], m)
        image = pil_resize(image, w2, h2)
        s2 = (w2, h2)
        frames, rows, cols = split(image, m)
    else:
        image = pil_resize(image, m, m)
        s2, frames, rows, cols = (m, m), [image], 0, 0
    converted = [convert_to_rgb(f) for f in frames]
    for a, b in zip(frames, converted):
        assert np.array_equal(a, b), "convert_to_rgb must be the identity on opaque RGB"
    return converted, rows, cols, s1, s2


# ---------------------------------------------------------------------------------------------- writing

def main():
    assert PIL.__version__ == "9.4.0", f"fixtures are pinned to Debian Pillow 9.4.0, found {PIL.__version__}"
    for sub in ("inputs", "resize", "tiles"):
        os.makedirs(os.path.join(OUT, sub), exist_ok=True)

    images = {}
    for seed, (name, w, h) in enumerate(INPUTS):
        images[name] = synthetic(w, h, seed)
        write_ppm(os.path.join(OUT, "inputs", name + ".ppm"), images[name])

    # --- resize cases: up and down, one axis only, same size, every convolution filter on a subset
    resize_cases = []

    def add_resize(name, w, h, filt="lanczos"):
        case = f"{name}_to_{w}x{h}_{filt}"
        out = pil_resize(images[name], w, h, FILTERS[filt])
        write_ppm(os.path.join(OUT, "resize", case + ".ppm"), out)
        resize_cases.append({"input": f"inputs/{name}.ppm", "width": w, "height": h, "filter": filt,
                             "expected": f"resize/{case}.ppm"})

    for name, w, h in INPUTS:
        targets = {(2 * w + 1, 3 * h), (max(1, w // 3), max(1, h // 2)), (37, 23), (w, max(1, h // 2 + 1)),
                   (max(1, w - 1), h), (w, h), (16, 16),
                   (max(1, w // 8), max(1, h // 7))}
        for tw, th in sorted(targets):
            if tw * th <= 6_000 or (tw, th) == (16, 16):
                add_resize(name, tw, th)
    for name in ("px100x80", "px17x13", "wide300x7", "px2x3", "px513x512"):
        w, h = images[name].shape[1], images[name].shape[0]
        for filt in ("bicubic", "bilinear", "box", "hamming"):
            add_resize(name, max(1, min(w // 3, 90)), max(1, min(h // 2, 90)), filt)
            add_resize(name, min(2 * w + 3, 120), min(2 * h, 120), filt)

    # --- whole-pipeline cases with small configs
    configs = [  # (tag, longest_edge, max_image_size, do_resize, do_image_splitting)
        ("L64M16", 64, 16, True, True),
        ("L48M16", 48, 16, True, True),
        ("L16M16", 16, 16, True, True),   # no split: rows = cols = 0
        ("L64M16nosplit", 64, 16, True, False),
        ("L40M12", 40, 12, True, True),
        ("noresizeM16", 64, 16, False, True),
    ]
    processor_cases = []
    for tag, L, M, do_resize, do_split in configs:
        for name, w, h in INPUTS:
            if not do_resize and w * h > 4_000:
                continue
            frames, rows, cols, s1, s2 = process(images[name], L, M, do_resize, do_split)
            assert all(f.shape == (M, M, 3) for f in frames)
            case = f"{name}_{tag}"
            write_ppm(os.path.join(OUT, "tiles", case + ".ppm"), np.concatenate(frames, axis=0))
            processor_cases.append({
                "input": f"inputs/{name}.ppm", "longest_edge": L, "max_image_size": M, "do_resize": do_resize,
                "do_image_splitting": do_split, "stage1": list(s1) if s1 else None, "stage2": list(s2),
                "rows": rows, "cols": cols, "tiles": len(frames), "expected": f"tiles/{case}.ppm"})

    # --- shapes only for the real settings
    sizes = [(100, 80), (80, 100), (1024, 768), (768, 1024), (1024, 1024), (512, 512), (1, 1), (2, 3),
             (300, 7), (7, 300), (513, 512), (512, 75), (75, 512), (1920, 1080), (1080, 1920), (4000, 3000),
             (640, 480), (333, 777), (5000, 10), (10, 5000), (2048, 2048), (2049, 2048), (1000, 999)]
    shapes = []
    for L, M, n in ((2048, 512, 64), (1536, 384, 81)):
        for w, h in sizes:
            h1, w1 = stage1_size(h, w, L)
            h2, w2 = stage2_size(h1, w1, M)
            rows, cols = (math.ceil(h2 / M), math.ceil(w2 / M)) if (h2 > M or w2 > M) else (0, 0)
            shapes.append({"width": w, "height": h, "longest_edge": L, "max_image_size": M, "image_seq_len": n,
                           "stage1": [w1, h1], "stage2": [w2, h2], "rows": rows, "cols": cols,
                           "tiles": rows * cols + 1, "image_tokens": (rows * cols + 1) * n})

    # --- normalisation over all 256 values (image_transforms.rescale then normalize)
    u = np.arange(256, dtype=np.uint8)
    norm_cases = []
    for tag, do_rescale, factor, do_norm, mean, std in (
            ("smolvlm", True, 1 / 255, True, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]),
            ("imagenet", True, 1 / 255, True, [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
            ("norescale", False, 1 / 255, True, [127.5, 100.0, 3.0], [127.5, 64.0, 0.7]),
            ("rescaleonly", True, 0.00392156862745098, False, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5])):
        channels = []
        for c in range(3):
            x = u.astype(np.float64) * factor if do_rescale else u
            x = x.astype(np.float32)
            if do_norm:
                x = (x - np.array(mean[c], dtype=np.float32)) / np.array(std[c], dtype=np.float32)
            assert x.dtype == np.float32
            channels.append([int(b) for b in x.view(np.uint32)])
        norm_cases.append({"name": tag, "do_rescale": do_rescale, "rescale_factor": factor,
                           "do_normalize": do_norm, "image_mean": mean, "image_std": std, "float32_bits": channels})

    meta = {"generator": GENERATOR, "pillow": PIL.__version__, "numpy": np.__version__,
            "python": sys.version.split()[0], "format_version": 1}
    for file, key, value in (("resize_cases.json", "cases", resize_cases),
                             ("processor_cases.json", "cases", processor_cases),
                             ("shapes.json", "cases", shapes),
                             ("normalize.json", "cases", norm_cases)):
        with open(os.path.join(OUT, file), "w") as f:
            json.dump({**meta, key: value}, f, indent=1)
            f.write("\n")
    print(f"{len(INPUTS)} inputs, {len(resize_cases)} resize cases, {len(processor_cases)} processor cases, "
          f"{len(shapes)} shape cases, {len(norm_cases)} normalisation cases")


if __name__ == "__main__":
    main()
