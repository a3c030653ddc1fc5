#!/usr/bin/env bash
# Installs the Debian/Ubuntu libraries Qt needs (for the real window and for
# offscreen tests), but only the ones that are missing, so a second run is instant.
#   --package   also what the desktop build needs (make package): binutils (objdump, used
#               by PyInstaller), Xvfb to check the built program on a real X server, and
#               desktop-file-utils to validate the menu entry.
set -euo pipefail

packages=(
  libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libdbus-1-3 libglib2.0-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 libxcb-randr0 libxcb-render-util0
  libxcb-image0 libxcb-xinerama0 libxcb-xkb1 fonts-dejavu-core python3-venv
  libpulse0
)
if [ "${1:-}" = "--package" ]; then
  packages+=(binutils xvfb xauth desktop-file-utils)
fi

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: not a Debian/Ubuntu system; install Qt's X11/EGL libraries yourself." >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing system libraries for Qt: ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "install-system-deps: need root (or sudo) to install: ${missing[*]}" >&2; exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
