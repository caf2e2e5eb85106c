#!/usr/bin/python3
"""Golden fixtures for non-RGB images (RGBA, LA, P, P + tRNS, L, 16-bit gray, 1-bit, colour keys) through the
SmolVLM image processor as transformers 5.x and as transformers 4.x run it (tests/VlmTune.Processing.Tests,
NonRgbImagesTests).

Run:   /usr/bin/python3 tests/reference/processor/make_nonrgb_fixtures.py      (from the repository root)
Needs: Debian bookworm python3-pil 9.4.0 and python3-numpy 1.24. Deterministic: same bytes on every run.
Writes tests/fixtures/processor/nonrgb/:

  <name>.png        tiny PNG inputs written by Pillow (the modes transformers receives from Image.open)
  <name>.<b>.ppm    uint8 tiles of behaviour b (t5 or t4) stacked top to bottom, global image last (binary P6),
                    i.e. the pipeline up to, not including, rescale/normalise (that step is shared and tested on
                    its own, bit for bit, by tests/fixtures/processor/normalize.json)
  cases.json        per case: input, behaviour, Pillow mode, rows, cols, tiles, expected ppm or the error

Oracle: Pillow itself decodes, converts and resizes; numpy holds the arrays. transformers is not installed here (no
PyPI), so its documented steps are re-implemented below, from
  transformers 5.x  image_processing_backends.py (PilBackend / TorchvisionBackend.process_image: convert_to_rgb on
                    the PIL image first), image_transforms.py convert_to_rgb (image.convert("RGB")),
                    models/smolvlm/image_processing_pil_smolvlm.py (resize, resize_for_vision_encoder, split_images);
  transformers 4.x  models/smolvlm/image_processing_smolvlm.py (= idefics3): preprocess (getpalette, to_numpy_array,
                    resize via to_pil_image with mode "P" for one channel, split_image, convert_to_rgb after the split:
                    alpha_composite over white, palette put back), image_utils.infer_channel_dimension_format
                    (num_channels=(1, 3, 4)), image_transforms.to_pil_image / _rescale_for_pil_conversion.
The 5.x torchvision backend (the default when torchvision is installed) converts colours the same way but resizes
with torchvision BICUBIC instead of LANCZOS; that resize is not what these fixtures check (datasets.md).
"""
import io
import json
import math
import os

import numpy as np
import PIL
from PIL import Image

# The size arithmetic (rescale to longest_edge with the 4096 cap; round up to whole tiles) is the same in
# transformers 4.x and 5.x: the RGB fixtures' script beside this one states it once.
from make_fixtures import stage1_size, stage2_size

GENERATOR = "tests/reference/processor/make_nonrgb_fixtures.py"
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "processor", "nonrgb")
LONGEST_EDGE, M = 16, 8          # size.longest_edge, max_image_size.longest_edge: 2x2 tiles + global
rng = np.random.default_rng(20261202)


# ------------------------------------------------------------------------------------------------ inputs

def noise(h, w, c=None):
    return rng.integers(0, 256, size=(h, w) if c is None else (h, w, c), dtype=np.uint8)


def alpha_plane(h, w):
    """0 (fully transparent), 255 and everything between, in blocks so resizing mixes them."""
    a = noise(h, w)
    a[: h // 3] = 0
    a[h // 3: h // 2] = 255
    return a


def inputs():
    out = {}
    rgba = np.dstack([noise(11, 13, 3), alpha_plane(11, 13)])
    out["rgba"] = Image.fromarray(rgba, "RGBA")
    out["rgba_37x29"] = Image.fromarray(np.dstack([noise(29, 37, 3), alpha_plane(29, 37)]), "RGBA")
    out["la"] = Image.fromarray(np.dstack([noise(11, 13), alpha_plane(11, 13)]), "LA")
    palette = noise(20, 1, 3).reshape(-1).tolist()
    idx = rng.integers(0, 20, size=(11, 13), dtype=np.uint8)
    p = Image.fromarray(idx, "P")
    p.putpalette(palette)
    out["p"] = p
    pt = p.copy()
    pt.info["transparency"] = bytes(rng.integers(0, 256, size=20, dtype=np.uint8))   # one alpha per entry
    out["p_trns"] = pt
    pi = p.copy()
    pi.info["transparency"] = 3                                                       # one transparent index
    out["p_trns_index"] = pi
    big = Image.fromarray(rng.integers(0, 20, size=(29, 37), dtype=np.uint8), "P")
    big.putpalette(palette)
    big.info["transparency"] = bytes(rng.integers(0, 256, size=20, dtype=np.uint8))
    out["p_trns_37x29"] = big
    out["l_11x13"] = Image.fromarray(noise(13, 11), "L")
    lk = Image.fromarray(noise(11, 13), "L")
    lk.info["transparency"] = int(np.asarray(lk)[0, 0])                               # a colour key
    out["l_key"] = lk
    rk = Image.fromarray(noise(11, 13, 3), "RGB")
    rk.info["transparency"] = tuple(int(v) for v in np.asarray(rk)[0, 0])
    out["rgb_key"] = rk
    out["i16_small"] = Image.fromarray(rng.integers(0, 256, size=(11, 13), dtype=np.uint16), "I;16")
    out["i16"] = Image.fromarray(rng.integers(0, 65536, size=(11, 13), dtype=np.uint16), "I;16")
    out["bilevel"] = Image.fromarray(rng.integers(0, 2, size=(11, 13)).astype(bool)).convert("1")
    return out


def save_png(im, path):
    kw = {}
    if "transparency" in im.info:
        kw["transparency"] = im.info["transparency"]
    im.save(path, format="PNG", **kw)


# ------------------------------------------------------------------------------------ transformers 5.x

def t5(im):
    """PilBackend: convert_to_rgb (PIL convert("RGB")) on the image as opened, then resize / split on RGB arrays."""
    if im.mode != "RGB":
        im = im.convert("RGB")
    arr = np.array(im)

    def resize(a, w, h):
        return np.array(Image.fromarray(a, "RGB").resize((w, h), resample=Image.LANCZOS))

    h1, w1 = stage1_size(arr.shape[0], arr.shape[1], LONGEST_EDGE)
    arr = resize(arr, w1, h1)
    h2, w2 = stage2_size(h1, w1, M)
    arr = resize(arr, w2, h2)
    frames, rows, cols = [], 0, 0
    if h2 > M or w2 > M:
        rows, cols = (h2 - M) // M + 1, (w2 - M) // M + 1
        for r in range(rows):
            for c in range(cols):
                frames.append(arr[r * M:(r + 1) * M, c * M:(c + 1) * M])
        frames.append(resize(arr, M, M))
    else:
        frames.append(arr)
    return frames, rows, cols


# ------------------------------------------------------------------------------------ transformers 4.x

def infer_channel_dimension_format(a, num_channels=(1, 3, 4)):
    first, last = 0, 2
    if a.shape[first] in num_channels and a.shape[last] in num_channels:
        return "first"   # "ambiguous ... assuming channels first" (no fixture has height 1, 3 or 4)
    if a.shape[first] in num_channels:
        return "first"
    if a.shape[last] in num_channels:
        return "last"
    raise ValueError("Unable to infer channel dimension format")


def to_pil_image(a, image_mode=None):
    a = np.squeeze(a, axis=-1) if a.shape[-1] == 1 else a
    if a.dtype != np.uint8:                                   # _rescale_for_pil_conversion
        if np.allclose(a, a.astype(int)):
            if not (np.all(0 <= a) and np.all(a <= 255)):
                raise ValueError("The image to be converted to a PIL image contains values outside the range [0, 255]")
        else:
            raise ValueError("unexpected float image")
    return Image.fromarray(a.astype(np.uint8), mode=image_mode)


def t4_resize(a, w, h):
    image_mode = "P" if a.ndim == 2 or a.shape[-1] == 1 else None
    out = np.array(to_pil_image(a, image_mode).resize((w, h), resample=Image.LANCZOS))
    return out[..., None] if out.ndim == 2 else out


def t4_convert_to_rgb(a, palette):
    im = to_pil_image(a, "P" if palette is not None else None)
    if im.mode == "P" and palette is not None:
        im.putpalette(palette)
    rgba = im.convert("RGBA")
    background = Image.new("RGBA", rgba.size, (255, 255, 255))
    return np.array(Image.alpha_composite(background, rgba).convert("RGB"))


def t4(im):
    palette = im.getpalette() if im.mode == "P" else None
    arr = np.array(im)
    if arr.ndim == 2:
        arr = arr[..., None]
    if infer_channel_dimension_format(arr) != "last":
        raise ValueError("channels-first input is not a fixture case")
    h1, w1 = stage1_size(arr.shape[0], arr.shape[1], LONGEST_EDGE)
    arr = t4_resize(arr, w1, h1)
    h2, w2 = stage2_size(h1, w1, M)
    arr = t4_resize(arr, w2, h2)
    frames, rows, cols = [], 0, 0
    if h2 > M or w2 > M:
        rows, cols = math.ceil(h2 / M), math.ceil(w2 / M)
        oh, ow = math.ceil(h2 / rows), math.ceil(w2 / cols)
        for r in range(rows):
            for c in range(cols):
                frames.append(arr[r * oh:min(r * oh + oh, h2), c * ow:min(c * ow + ow, w2)])
        if h2 != M or w2 != M:
            arr = t4_resize(arr, M, M)
    frames.append(arr)
    return [t4_convert_to_rgb(f, palette) for f in frames], rows, cols


# ---------------------------------------------------------------------------------------------- writing

def write_ppm(path, arr):
    h, w, _ = arr.shape
    with open(path, "wb") as f:
        f.write(b"P6\n# generator: %s\n%d %d\n255\n" % (GENERATOR.encode(), w, h))
        f.write(np.ascontiguousarray(arr, dtype=np.uint8).tobytes())


def main():
    assert PIL.__version__ == "9.4.0", f"fixtures are pinned to Debian Pillow 9.4.0, found {PIL.__version__}"
    os.makedirs(OUT, exist_ok=True)
    cases = []
    for name, im in inputs().items():
        path = os.path.join(OUT, name + ".png")
        save_png(im, path)
        opened = Image.open(path)
        opened.load()
        for behaviour, run in (("t5", t5), ("t4", t4)):
            case = {"input": name + ".png", "behaviour": behaviour, "pillow_mode": opened.mode}
            try:
                frames, rows, cols = run(Image.open(path))
                expected = f"{name}.{behaviour}.ppm"
                write_ppm(os.path.join(OUT, expected), np.concatenate(frames, axis=0))
                case.update(rows=rows, cols=cols, tiles=len(frames), expected=expected)
            except ValueError as e:
                case.update(error=str(e).split(".")[0])
            cases.append(case)
    manifest = {"generator": GENERATOR, "format_version": 1, "pillow": PIL.__version__,
                "longest_edge": LONGEST_EDGE, "max_image_size": M, "resample": "lanczos", "cases": cases}
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    for c in cases:
        print(c["input"], c["behaviour"], c["pillow_mode"], c.get("expected") or c.get("error"))


if __name__ == "__main__":
    main()
