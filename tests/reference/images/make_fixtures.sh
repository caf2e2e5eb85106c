#!/usr/bin/env bash
# Regenerates tests/fixtures/images/ (inputs, expected pixels, manifest.tsv).
# Needs (Debian 12): apt-get install imagemagick libjpeg-turbo-progs python3-pil python3-numpy
# Versions used for the committed fixtures: ImageMagick 6.9.11, libjpeg-turbo 2.1.5 (cjpeg/djpeg), Pillow 9.4.0.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
for tool in /usr/bin/convert cjpeg djpeg /usr/bin/python3; do
  command -v "$tool" >/dev/null || { echo "missing $tool (see the header of this script)" >&2; exit 1; }
done
exec /usr/bin/python3 "$here/make_fixtures.py" "$root/tests/fixtures/images"
