#!/usr/bin/env bash
# Installs the Debian 12 packages gst-fal needs to build, test and run its
# local models, when any is missing. Needs root (or sudo).
set -euo pipefail

packages=(
  meson ninja-build pkg-config gcc
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libcairo2-dev
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-opencv opencv-data
  gobject-introspection libgirepository1.0-dev python3-gi
  gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-soup-3.0 gir1.2-json-1.0
  tesseract-ocr tesseract-ocr-eng fonts-dejavu-core libzbar-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
command -v node >/dev/null 2>&1 || missing+=(nodejs npm)

if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "Installing: ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
