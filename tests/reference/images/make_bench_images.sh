#!/usr/bin/env bash
# Creates the 1024x768 timing images of engine.md section 4 (kept out of the repository) and their reference pixels:
#   plasma.png (8-bit RGB, ImageMagick filters), plasma.jpg (q90 4:2:0), *.ppm = ImageMagick / djpeg decodes.
# Then: VLMTUNE_IMAGES_BENCH_DIR=<dir> taskset -c 0 dotnet test tests/VlmTune.Images.Tests -c Release \
#         --filter DecodeTiming --logger "console;verbosity=detailed"
set -euo pipefail
dir="${1:-/tmp/vlmtune-images-bench}"
mkdir -p "$dir" && cd "$dir"
/usr/bin/convert -seed 7 -size 1024x768 plasma:fractal -blur 0x1 -depth 8 plasma.png
/usr/bin/convert plasma.png -quality 90 -sampling-factor 2x2 plasma.jpg
djpeg -ppm plasma.jpg > plasma.jpg.ppm
/usr/bin/convert plasma.png -depth 8 ppm:plasma.png.ppm
echo "bench images in $dir"
