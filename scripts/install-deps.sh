#!/usr/bin/env bash
# Installs the Debian 12 packages gst-fal needs to build, test and run its
# local models, when any is missing. Needs root (or sudo).
# --list prints the packages, one a line, and installs nothing: the test
# install-deps-check (tests/check/scripts/deps-check.py) compares it with the
# packages providing every GStreamer element and program the project uses.
set -euo pipefail

packages=(
  # build
  meson ninja-build pkg-config gcc
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libcairo2-dev
  libmsgpack-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libzbar-dev
  libtesseract-dev
  gobject-introspection libgirepository1.0-dev
  # Ed25519 signatures of webhooks (libsodium23 at run time)
  libsodium-dev libsodium23
  # GStreamer: the core elements (libgstreamer1.0-0), the tools and every
  # plugin package an element used by the apps, examples, scripts or tests
  # comes from (gstreamer1.0-x: textoverlay, for local/text-to-image)
  libgstreamer1.0-0 gstreamer1.0-tools
  # realtime frames (msgpack)
  libmsgpackc2
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-x gstreamer1.0-opencv
  # the local models' libraries and data (libtesseract5: local/ocr reads
  # text in-process; tesseract-ocr-eng: its English model)
  libtesseract5 opencv-data tesseract-ocr-eng fonts-dejavu-core
  # scripts and tests: Python (/usr/bin/python3 is python3-minimal's) with
  # the introspection bindings, the valgrind test setup
  python3 python3-minimal python3-gi
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-soup-3.0 gir1.2-json-1.0
  valgrind
  # bench/ (never run by the tests): curl -T beside our uploads, openssl for
  # the TLS series
  curl openssl
  # the fuzz targets (scripts/fuzz.sh, run by CI): clang and its libFuzzer
  clang libfuzzer-14-dev
)
# fal's JavaScript client (tests/conformance). A node that does not come
# from Debian's nodejs (NodeSource's bundles npm) is kept as it is.
node_packages=(nodejs npm)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}" "${node_packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=("${node_packages[@]}")

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
