#!/usr/bin/env bash
# Regenerates docs/screenshots/: the home page, a case study and the matrix,
# at phone (390 px) and desktop (1280 px) widths, in headless Debian chromium.
#   scripts/screenshots.sh            (builds the bundled site first)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v chromium >/dev/null || { echo "chromium not installed (apt-get install chromium)"; exit 1; }
cargo run --quiet --release -- build --output target/screenshot-site --base-url http://127.0.0.1:8765/ >/dev/null
python3 -m http.server 8765 --bind 127.0.0.1 --directory target/screenshot-site >/dev/null 2>&1 &
server=$!
trap 'kill $server' EXIT
sleep 1
mkdir -p docs/screenshots
shoot() { # name path width height
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --force-device-scale-factor=1 \
    --user-data-dir="$(mktemp -d)" --window-size="$3,$4" --screenshot="docs/screenshots/$1.png" \
    "http://127.0.0.1:8765$2" >/dev/null 2>&1
  echo "docs/screenshots/$1.png"
}
for page in "home /" "case-study /case-studies/edinburgh-retrofit-pilot/" "matrix /replication/"; do
  set -- $page
  shoot "$1-desktop" "$2" 1280 1600
  shoot "$1-phone" "$2" 390 1600
done
