#!/bin/sh
# Install IVIG Nurse Companion for the current user (no administrator rights needed).
#
#   ./install.sh            run from the unpacked nurse-app-VERSION folder
#
# Copies this folder to ~/.local/opt/nurse-app (or $NURSE_APP_PREFIX), links
# ~/.local/bin/nurse-app to it, adds the menu entry (~/.local/share/applications) and the
# icon (~/.local/share/icons/hicolor), then checks the installed copy with --selftest.
# The patient record is NOT here: it lives in ~/.local/share/nurse-app/ and is never
# touched by installing, upgrading or uninstall.sh.
set -eu

here=$(cd "$(dirname "$0")" && pwd -P)
data=${XDG_DATA_HOME:-$HOME/.local/share}
prefix=${NURSE_APP_PREFIX:-$HOME/.local/opt/nurse-app}
bindir=${NURSE_APP_BINDIR:-$HOME/.local/bin}

if [ ! -x "$here/nurse-app" ] || [ ! -d "$here/_internal" ]; then
  echo "install.sh: run me from the unpacked nurse-app folder (nurse-app and _internal/ beside me)." >&2
  exit 1
fi

# 1. The program: copied whole, then swapped in, so an upgrade never leaves half a copy.
if [ "$here" != "$prefix" ]; then
  mkdir -p "$(dirname "$prefix")"
  rm -rf "$prefix.new"
  cp -a "$here" "$prefix.new"
  rm -rf "$prefix.old"
  if [ -e "$prefix" ]; then mv "$prefix" "$prefix.old"; fi
  mv "$prefix.new" "$prefix"
  rm -rf "$prefix.old"
fi
mkdir -p "$bindir"
ln -sfn "$prefix/nurse-app" "$bindir/nurse-app"

# 2. Icon (every size, plus the SVG) and menu entry.
for size in 16 24 32 48 64 128 256; do
  mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
  cp "$prefix/icons/nurse-app-$size.png" "$data/icons/hicolor/${size}x${size}/apps/nurse-app.png"
done
mkdir -p "$data/icons/hicolor/scalable/apps" "$data/applications"
cp "$prefix/icons/nurse-app.svg" "$data/icons/hicolor/scalable/apps/nurse-app.svg"
sed -e "s|^Exec=.*|Exec=\"$prefix/nurse-app\"|" -e "s|^TryExec=.*|TryExec=$prefix/nurse-app|" \
  "$prefix/nurse-app.desktop" > "$data/applications/nurse-app.desktop"
chmod 644 "$data/applications/nurse-app.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$data/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$data/icons/hicolor" || true

# 3. Check the installed copy (content, calculation, window offscreen).
if QT_QPA_PLATFORM=offscreen "$prefix/nurse-app" --selftest >/dev/null 2>"$prefix/selftest.log"; then
  rm -f "$prefix/selftest.log"
else
  echo "install.sh: the installed program failed its self-test; see $prefix/selftest.log" >&2
  exit 1
fi

echo "Installed IVIG Nurse Companion $("$prefix/nurse-app" --version | cut -d' ' -f2) in $prefix"
echo "Start it from the applications menu, or run: $bindir/nurse-app"
case ":$PATH:" in *":$bindir:"*) ;; *) echo "(Add $bindir to PATH to run 'nurse-app' by name.)";; esac
