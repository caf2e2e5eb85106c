#!/usr/bin/python3
"""Generates the image-codec fixtures read by tests/VlmTune.Images.Tests (run via make_fixtures.sh).

Writes into the output folder:
  png/*.png, jpeg/*.jpg   inputs
  expected/*.ppm          expected 8-bit RGB pixels (binary P6)
  manifest.tsv            input, expected ppm or '-', expected error substring or '-', how it was made

Expected pixels:
  JPEG: `djpeg -ppm` (libjpeg-turbo defaults: ISLOW IDCT, fancy upsampling); gray PGM is replicated to RGB;
        EXIF cases then get Pillow's ImageOps.exif_transpose.
  PNG:  Pillow's Image.open(f).convert("RGB") (what transformers 5.x feeds its processor), computed here from the
        known source samples: 16-bit -> high byte except 16-bit gray, which Pillow opens as mode I and clamps to
        255; 1/2/4-bit gray scaled by 255/(2^d-1); a palette index -> its entry; alpha and tRNS (colour keys,
        palette alphas) dropped, never composited. Every case is also decoded by Pillow; the manifest notes
        whether Pillow agrees ('pillow=same').
  expected/alpha_all_pairs.white.ppm: the RGBA of alpha_all_pairs.png composited over white exactly as Pillow's
        Image.alpha_composite(white, im.convert("RGBA")).convert("RGB") (transformers 4.x's convert_to_rgb).
"""
import io
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import numpy as np
from PIL import Image, ImageOps

OUT = sys.argv[1]
TMP = tempfile.mkdtemp(prefix="vlmtune_img_")
rng = np.random.default_rng(20240611)
manifest = []


def write_ppm(path, rgb):
    h, w, _ = rgb.shape
    with open(path, "wb") as f:
        f.write(b"P6\n%d %d\n255\n" % (w, h))
        f.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())


def add(kind, name, data, expected_rgb, note, error="-"):
    path = os.path.join(OUT, kind, name)
    with open(path, "wb") as f:
        f.write(data)
    exp = "-"
    if expected_rgb is not None:
        exp = "expected/" + os.path.splitext(name)[0] + "." + kind + ".ppm"
        write_ppm(os.path.join(OUT, exp), expected_rgb)
    manifest.append((kind + "/" + name, exp, error, note))


# ----------------------------------------------------------------------------------------------- PNG
def white_composite(c, a):
    """Pillow alpha_composite over opaque white (PRECISION_BITS = 7, SHIFTFORDIV255)."""
    c = c.astype(np.int64)
    a = a.astype(np.int64)
    t = 128 * (c * a + 255 * (255 - a)) + (0x80 << 7)
    return ((((t >> 8) + t) >> 8) >> 7).astype(np.uint8)


def to8(v, depth):
    if depth == 16:
        return (v >> 8).astype(np.uint8)
    return (v * (255 // ((1 << depth) - 1))).astype(np.uint8)


def chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def pack_row(samples, depth):
    """samples: 1-D int array of one row's samples -> bytes."""
    if depth == 16:
        return samples.astype(">u2").tobytes()
    if depth == 8:
        return samples.astype(np.uint8).tobytes()
    per = 8 // depth
    n = len(samples)
    padded = np.zeros(((n + per - 1) // per) * per, dtype=np.int64)
    padded[:n] = samples
    out = bytearray()
    for i in range(0, len(padded), per):
        b = 0
        for j in range(per):
            b = (b << depth) | int(padded[i + j])
        out.append(b)
    return bytes(out)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_row(ftype, row, prior, bpp):
    out = bytearray(len(row))
    for i in range(len(row)):
        a = row[i - bpp] if i >= bpp else 0
        b = prior[i] if prior is not None else 0
        c = prior[i - bpp] if prior is not None and i >= bpp else 0
        pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][ftype]
        out[i] = (row[i] - pred) & 0xFF
    return bytes([ftype]) + bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def png_bytes(samples, ctype, depth, palette=None, trns=None, interlace=False, idat_split=None, extra=b"",
              bad_filter=False, row_delta=0):
    """samples: (h, w, channels) ints at the given depth. Filters cycle 0..4 by row."""
    h, w, ch = samples.shape
    bpp = max(1, ch * depth // 8)
    passes = [(0, 0, 1, 1)] if not interlace else ADAM7
    raw = bytearray()
    rowno = 0
    for (x0, y0, dx, dy) in passes:
        sub = samples[y0::dy, x0::dx, :]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        prior = None
        nrows = sub.shape[0] + (row_delta if not interlace else 0)
        for y in range(nrows):
            row = pack_row(sub[min(y, sub.shape[0] - 1)].reshape(-1), depth)
            f = filter_row(rowno % 5, row, prior, bpp)
            if bad_filter and rowno == 3:
                f = bytes([7]) + f[1:]
            raw += f
            prior = row
            rowno += 1
    data = zlib.compress(bytes(raw), 9)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, ctype, 0, 0, int(interlace)))
    out += chunk(b"gAMA", struct.pack(">I", 45455))  # must be ignored
    if palette is not None:
        out += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if trns is not None:
        out += chunk(b"tRNS", trns)
    out += extra
    step = idat_split or len(data)
    for i in range(0, len(data), step):
        out += chunk(b"IDAT", data[i:i + step])
    return out + chunk(b"IEND", b"")


def png_expected(samples, ctype, depth, palette=None, trns=None):
    """Pillow's convert("RGB") of the PNG, from its samples (trns is written to the file but never applied)."""
    s = samples.astype(np.int64)
    if ctype == 3:
        return palette.reshape(-1, 3)[s[:, :, 0]].astype(np.uint8)
    if ctype == 0 and depth == 16:
        return np.repeat(np.minimum(s, 255), 3, axis=2).astype(np.uint8)
    color = s[:, :, :3] if ctype in (2, 6) else np.repeat(s[:, :, :1], 3, axis=2)
    return to8(color, depth)


def pillow_rgb(data):
    im = Image.open(io.BytesIO(data))
    im.load()
    return np.asarray(im.convert("RGB"))


def smooth_samples(w, h, ch, maxval):
    y, x = np.mgrid[0:h, 0:w]
    planes = []
    for c in range(ch):
        base = (x * (37 + 11 * c) + y * (23 + 5 * c) + c * 50) % (maxval + 1)
        noise = rng.integers(0, maxval + 1, size=(h, w))
        planes.append(np.where(rng.random((h, w)) < 0.3, noise, base))
    return np.stack(planes, axis=2).astype(np.int64)


def add_png(name, samples, ctype, depth, note, palette=None, trns=None, **kw):
    data = png_bytes(samples, ctype, depth, palette=palette, trns=trns, **kw)
    exp = png_expected(samples, ctype, depth, palette, trns)
    pil = pillow_rgb(data)
    same = pil.shape == exp.shape and np.array_equal(pil, exp)
    assert same, f"{name}: the convert('RGB') rule above disagrees with Pillow"
    add("png", name, data, exp, note + "; pillow=same")
    return same


CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
COMBOS = [(0, 1), (0, 2), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16), (3, 1), (3, 2), (3, 4), (3, 8),
          (4, 8), (4, 16), (6, 8), (6, 16)]
pillow_differs = []


def palette_for(depth):
    n = 1 << depth
    return rng.integers(0, 256, size=(n, 3))


for ctype, depth in COMBOS:
    for interlace in (False, True):
        w, h = (17, 13)
        maxval = (1 << depth) - 1
        samples = smooth_samples(w, h, CHANNELS[ctype], maxval)
        pal = palette_for(depth) if ctype == 3 else None
        name = "ct%d_d%d%s.png" % (ctype, depth, "_adam7" if interlace else "")
        if not add_png(name, samples, ctype, depth, "python writer, filters cycle 0-4, gAMA present", palette=pal,
                       interlace=interlace):
            pillow_differs.append(name)

# tRNS cases
for ctype, depth in [(0, 1), (0, 4), (0, 8), (0, 16), (2, 8), (2, 16)]:
    w, h = 19, 11
    maxval = (1 << depth) - 1
    samples = smooth_samples(w, h, CHANNELS[ctype], maxval)
    key = samples[2, 3]
    trns = struct.pack(">%dH" % len(key), *[int(k) for k in key])
    name = "ct%d_d%d_trns.png" % (ctype, depth)
    if not add_png(name, samples, ctype, depth, "colour-key tRNS", trns=trns):
        pillow_differs.append(name)
for depth in (2, 8):
    samples = smooth_samples(19, 11, 1, (1 << depth) - 1)
    pal = palette_for(depth)
    trns = bytes(rng.integers(0, 256, size=max(1, (1 << depth) - 1)).astype(np.uint8))
    name = "ct3_d%d_trns.png" % depth
    if not add_png(name, samples, 3, depth, "palette + partial tRNS", palette=pal, trns=trns):
        pillow_differs.append(name)

# Adam7 tiny and odd sizes, multiple IDAT chunks
for (w, h) in [(1, 1), (3, 2), (9, 9), (33, 1), (1, 40)]:
    add_png("ct2_d8_adam7_%dx%d.png" % (w, h), smooth_samples(w, h, 3, 255), 2, 8, "Adam7 small size",
            interlace=True)
    add_png("ct6_d8_%dx%d.png" % (w, h), smooth_samples(w, h, 4, 255), 6, 8, "odd size")
add_png("ct2_d8_idat50.png", smooth_samples(33, 17, 3, 255), 2, 8, "IDAT split every 50 bytes", idat_split=50)
add_png("ct6_d16_adam7_idat7.png", smooth_samples(21, 15, 4, 65535), 6, 16, "Adam7 + IDAT split every 7 bytes",
        interlace=True, idat_split=7)

# Exhaustive alpha compositing: every (colour, alpha) pair once per channel position.
i = np.arange(128 * 172)
a = i % 256
base = (i // 256) * 3
rgba = np.stack([base % 256, (base + 1) % 256, (base + 2) % 256, a], axis=1).reshape(172, 128, 4)
add_png("alpha_all_pairs.png", rgba, 6, 8, "all (c, a) pairs: alpha dropped (see alpha_all_pairs.white.ppm)")
white = np.stack([white_composite(rgba[:, :, i], rgba[:, :, 3]) for i in range(3)], axis=2)
pil_white = Image.alpha_composite(Image.new("RGBA", (128, 172), (255, 255, 255)), Image.fromarray(rgba.astype(np.uint8), "RGBA"))
assert np.array_equal(np.asarray(pil_white.convert("RGB")), white), "white_composite disagrees with Pillow"
write_ppm(os.path.join(OUT, "expected", "alpha_all_pairs.white.ppm"), white)

# Real encoders
src = smooth_samples(40, 30, 3, 255).astype(np.uint8)
buf = io.BytesIO()
Image.fromarray(src).save(buf, "PNG", optimize=True)
add("png", "pillow_rgb.png", buf.getvalue(), pillow_rgb(buf.getvalue()), "Pillow 9.4 writer; expected = Pillow")
pim = Image.fromarray(src).quantize(16)
buf = io.BytesIO()
pim.save(buf, "PNG", transparency=3)
add("png", "pillow_palette_trns.png", buf.getvalue(), pillow_rgb(buf.getvalue()),
    "Pillow palette with transparency index; expected = Pillow")
exif = Image.Exif()
exif[0x0112] = 6
buf = io.BytesIO()
Image.fromarray(src).save(buf, "PNG", exif=exif.tobytes())
pe = Image.open(io.BytesIO(buf.getvalue()))
add("png", "pillow_exif6.png", buf.getvalue(), np.asarray(ImageOps.exif_transpose(pe).convert("RGB")),
    "eXIf orientation 6; expected = Pillow exif_transpose")
for name, args in [("im_plasma.png", ["-depth", "8"]), ("im_plasma_adam7.png", ["-depth", "8", "-interlace", "PNG"]),
                   ("im_plasma48.png", ["-depth", "16"])]:
    p = os.path.join(TMP, name)
    prefix = "PNG48:" if "48" in name else ""
    subprocess.run(["/usr/bin/convert", "-seed", "7", "-size", "48x32", "plasma:fractal"] + args + [prefix + p],
                   check=True)
    data = open(p, "rb").read()
    add("png", name, data, pillow_rgb(data), "ImageMagick 6.9 writer %s; expected = Pillow" % " ".join(args))

# PNG errors
ok = png_bytes(smooth_samples(8, 6, 3, 255), 2, 8)
bad = bytearray(ok)
bad[29] ^= 0x01  # IHDR CRC
add("png", "err_crc.png", bytes(bad), None, "IHDR CRC flipped", "CRC mismatch in chunk 'IHDR'")
add("png", "err_filter.png", png_bytes(smooth_samples(8, 6, 3, 255), 2, 8, bad_filter=True), None,
    "filter byte 7 in row 3", "invalid filter type 7 in row 3")
add("png", "err_short.png", png_bytes(smooth_samples(8, 6, 3, 255), 2, 8, row_delta=-1), None,
    "one row of image data missing", "too short")
add("png", "err_long.png", png_bytes(smooth_samples(8, 6, 3, 255), 2, 8, row_delta=1), None,
    "one extra row of image data", "longer than")
add("png", "err_truncated.png", ok[:len(ok) // 2], None, "file cut in half", "truncated PNG")
add("png", "err_no_iend.png", ok[:-12], None, "IEND removed", "truncated PNG")
s = smooth_samples(8, 6, 1, 255)
s[2, 2, 0] = 200
add("png", "err_palette_index.png", png_bytes(s, 3, 8, palette=rng.integers(0, 256, size=(16, 3))), None,
    "index 200 with a 16-entry palette", "palette index")

# ----------------------------------------------------------------------------------------------- JPEG
def djpeg(path):
    out = subprocess.run(["djpeg", "-ppm", path], check=True, capture_output=True).stdout
    im = Image.open(io.BytesIO(out))
    return np.asarray(im.convert("RGB"))  # PGM (gray) is replicated to RGB


def jpeg_source(w, h):
    y, x = np.mgrid[0:h, 0:w]
    r = (x * 255 // max(1, w - 1))
    g = (y * 255 // max(1, h - 1))
    b = ((x + y) % 16 < 8) * 200 + 20
    img = np.stack([r, g, b], axis=2).astype(np.int64)
    noise = rng.integers(-40, 41, size=img.shape)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def add_cjpeg(name, w, h, args, note, gray=False):
    src = os.path.join(TMP, "src_%dx%d.ppm" % (w, h))
    if not os.path.exists(src):
        write_ppm(src, jpeg_source(w, h))
    out = os.path.join(TMP, name)
    subprocess.run(["cjpeg"] + args + ["-outfile", out, src], check=True)
    add("jpeg", name, open(out, "rb").read(), djpeg(out), "cjpeg %s; expected = djpeg -ppm" % " ".join(args))
    return out


SAMPLINGS = {"444": "1x1", "422": "2x1", "420": "2x2", "440": "1x2", "411": "4x1"}
for tag, samp in SAMPLINGS.items():
    for prog in (False, True):
        for (w, h) in [(17, 13), (33, 1), (1, 40), (48, 40)]:
            args = ["-quality", "85", "-sample", samp] + (["-progressive"] if prog else [])
            add_cjpeg("%s_%s_%dx%d.jpg" % ("prog" if prog else "base", tag, w, h), w, h, args, "")
for prog in (False, True):
    for (w, h) in [(17, 13), (48, 40)]:
        add_cjpeg("%s_gray_%dx%d.jpg" % ("prog" if prog else "base", w, h), w, h,
                  ["-grayscale", "-quality", "80"] + (["-progressive"] if prog else []), "")
add_cjpeg("base_420_restart_rows.jpg", 48, 40, ["-sample", "2x2", "-restart", "1"], "")
add_cjpeg("base_420_restart_2b.jpg", 48, 40, ["-sample", "2x2", "-restart", "2B"], "")
add_cjpeg("prog_420_restart_1b.jpg", 48, 40, ["-sample", "2x2", "-progressive", "-restart", "1B"], "")
add_cjpeg("base_rgb_adobe.jpg", 48, 40, ["-rgb", "-quality", "90"], "")
add_cjpeg("base_420_optimize.jpg", 48, 40, ["-sample", "2x2", "-optimize"], "")
add_cjpeg("base_444_q100.jpg", 48, 40, ["-sample", "1x1", "-quality", "100"], "")
add_cjpeg("base_420_q5_16bit_dqt.jpg", 48, 40, ["-sample", "2x2", "-quality", "5"], "")
add_cjpeg("prog_422_q97.jpg", 48, 40, ["-sample", "2x1", "-quality", "97", "-progressive"], "")

p = os.path.join(TMP, "im_plasma.jpg")
subprocess.run(["/usr/bin/convert", "-seed", "7", "-size", "48x32", "plasma:fractal", "-sampling-factor", "2x2",
                "-quality", "75", p], check=True)
add("jpeg", "im_plasma_420.jpg", open(p, "rb").read(), djpeg(p), "ImageMagick 6.9 q75 4:2:0; expected = djpeg")
buf = io.BytesIO()
Image.fromarray(jpeg_source(41, 29)).save(buf, "JPEG", quality=90, subsampling=2, progressive=True)
p = os.path.join(TMP, "pillow_prog.jpg")
open(p, "wb").write(buf.getvalue())
add("jpeg", "pillow_prog_420.jpg", buf.getvalue(), djpeg(p), "Pillow 9.4 progressive q90 4:2:0; expected = djpeg")

# EXIF orientations on a non-square 4:2:0 image
base_path = os.path.join(TMP, "exif_base.jpg")
subprocess.run(["cjpeg", "-sample", "2x2", "-quality", "90", "-outfile", base_path,
                os.path.join(TMP, "src_17x13.ppm")], check=True)
base = open(base_path, "rb").read()
pixels = djpeg(base_path)


def exif_segment(orientation, big_endian):
    e = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", 2)
    tiff += struct.pack(e + "HHI", 0x010F, 2, 4) + b"Cam\0"          # Make, inline ASCII
    tiff += struct.pack(e + "HHIH", 0x0112, 3, 1, orientation) + b"\0\0"
    tiff += struct.pack(e + "I", 0)
    body = b"Exif\0\0" + tiff
    return b"\xFF\xE1" + struct.pack(">H", len(body) + 2) + body


for o in range(1, 9):
    for big in ((False, True) if o == 6 else (False,)):
        data = base[:2] + exif_segment(o, big) + base[2:]
        im = Image.fromarray(pixels)
        im.getexif()[0x0112] = o
        expected = np.asarray(ImageOps.exif_transpose(im))
        check = Image.open(io.BytesIO(data))
        assert np.array_equal(np.asarray(ImageOps.exif_transpose(check).convert("RGB")), expected), o
        add("jpeg", "exif_%d%s.jpg" % (o, "_mm" if big else ""), data, expected,
            "APP1 Exif orientation %d; expected = djpeg + ImageOps.exif_transpose (also = Pillow's own decode)" % o)

# JPEG errors
p = os.path.join(TMP, "arith.jpg")
subprocess.run(["cjpeg", "-arithmetic", "-outfile", p, os.path.join(TMP, "src_17x13.ppm")], check=True)
add("jpeg", "err_arithmetic.jpg", open(p, "rb").read(), None, "cjpeg -arithmetic", "arithmetic")
sof = base.index(b"\xFF\xC0")
twelve = bytearray(base)
twelve[sof + 4] = 12
add("jpeg", "err_12bit.jpg", bytes(twelve), None, "SOF precision byte patched to 12", "12-bit")
buf = io.BytesIO()
Image.fromarray(jpeg_source(16, 16)).convert("CMYK").save(buf, "JPEG")
add("jpeg", "err_cmyk.jpg", buf.getvalue(), None, "Pillow CMYK JPEG", "CMYK JPEG is not supported")
add("jpeg", "err_truncated.jpg", base[:len(base) * 2 // 3], None, "file cut at 2/3", "JPEG")
add("misc", "err_gif.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", None, "GIF header", "unsupported image format")

with open(os.path.join(OUT, "manifest.tsv"), "w") as f:
    f.write("# generated by tests/reference/images/make_fixtures.sh (make_fixtures.py); do not edit\n")
    f.write("# input\texpected\terror\tnote\n")
    for row in manifest:
        f.write("\t".join(row) + "\n")
print("%d fixtures; Pillow differs from the rule on: %s" % (len(manifest), ", ".join(pillow_differs) or "none"))
