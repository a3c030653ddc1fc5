#!/bin/sh
# Remove the program, its menu entry and icon installed by install.sh.
# The patient record (~/.local/share/nurse-app/) and its backups are left alone.
set -eu
data=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${NURSE_APP_PREFIX:-$HOME/.local/opt/nurse-app}
bindir=${NURSE_APP_BINDIR:-$HOME/.local/bin}
rm -f "$data/applications/nurse-app.desktop" "$data/icons/hicolor/scalable/apps/nurse-app.svg"
for size in 16 24 32 48 64 128 256; do rm -f "$data/icons/hicolor/${size}x${size}/apps/nurse-app.png"; done
if [ -L "$bindir/nurse-app" ]; then rm -f "$bindir/nurse-app"; fi
rm -rf "$prefix"
echo "Removed IVIG Nurse Companion. Your record in $data/nurse-app/ was kept."
