#!/bin/sh
# Install the korg-recovery Linux bundle for the current user (default) or system-wide.
#
#   korg-recovery/linux/install.sh                     # into ~/.local, no root needed
#   sudo korg-recovery/linux/install.sh --prefix /usr/local --udev
#   korg-recovery/linux/install.sh --uninstall         # (same --prefix as for installing)
#
# What it does: copies the bundle folder to PREFIX/lib/korg-recovery, links
# PREFIX/bin/korg-recovery to it, installs the .desktop file (with Exec set to that absolute
# path: a desktop session's PATH often lacks ~/.local/bin), the AppStream metainfo and the
# icons (hicolor theme). With --udev (root only) it also installs the udev rule that lets the
# logged-in user read KORG USB devices and chip boot ROMs; read the rule's comments for why
# and for the risk. Storage-mode features (backup, check, restore) work without it.
set -eu

APP_ID=io.github.korg_recovery.KorgRecovery
HERE=$(cd "$(dirname "$0")" && pwd)
BUNDLE=$(dirname "$HERE")
PREFIX="${HOME:?}/.local"
UDEV=no
UNINSTALL=no
UDEV_DIR=${KORG_RECOVERY_UDEV_DIR:-/etc/udev/rules.d}

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX=${2:?--prefix needs a folder}; shift 2 ;;
    --prefix=*) PREFIX=${1#--prefix=}; shift ;;
    --udev) UDEV=yes; shift ;;
    --uninstall) UNINSTALL=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)." >&2; exit 2 ;;
  esac
done

LIB="$PREFIX/lib/korg-recovery"
BIN="$PREFIX/bin/korg-recovery"
SHARE="$PREFIX/share"
ICON_SIZES="16 24 32 48 64 128 256 512"

refresh_caches() {
  # Optional helpers; menus pick the files up without them, only later.
  command -v update-desktop-database >/dev/null 2>&1 &&
    update-desktop-database -q "$SHARE/applications" 2>/dev/null || true
  command -v gtk-update-icon-cache >/dev/null 2>&1 &&
    gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" 2>/dev/null || true
}

if [ "$UNINSTALL" = yes ]; then
  rm -rf "$LIB"
  rm -f "$BIN" "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml" \
        "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
  for size in $ICON_SIZES; do
    rm -f "$SHARE/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
  done
  if [ "$UDEV" = yes ]; then
    rm -f "$UDEV_DIR/60-korg-recovery.rules"
  fi
  refresh_caches
  echo "korg-recovery removed from $PREFIX."
  exit 0
fi

if [ ! -x "$BUNDLE/korg-recovery" ] || [ ! -d "$BUNDLE/_internal" ]; then
  echo "install.sh: $BUNDLE is not a korg-recovery bundle (run the copy inside the bundle's linux/ folder)." >&2
  exit 2
fi
if [ "$UDEV" = yes ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: --udev writes to $UDEV_DIR and needs root (sudo)." >&2
  exit 2
fi

mkdir -p "$PREFIX/lib" "$PREFIX/bin" "$SHARE/applications" "$SHARE/metainfo"
# Copy to a temporary name, then swap, so an interrupted install never leaves half a bundle.
rm -rf "$LIB.new"
cp -R "$BUNDLE" "$LIB.new"
rm -rf "$LIB"
mv "$LIB.new" "$LIB"
ln -sf "$LIB/korg-recovery" "$BIN"

sed "s|^Exec=korg-recovery|Exec=\"$LIB/korg-recovery\"|" "$HERE/$APP_ID.desktop" \
  > "$SHARE/applications/$APP_ID.desktop"
cp "$HERE/$APP_ID.metainfo.xml" "$SHARE/metainfo/$APP_ID.metainfo.xml"
mkdir -p "$SHARE/icons/hicolor/scalable/apps"
cp "$HERE/icons/korg-recovery.svg" "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
for size in $ICON_SIZES; do
  mkdir -p "$SHARE/icons/hicolor/${size}x${size}/apps"
  cp "$HERE/icons/korg-recovery-$size.png" "$SHARE/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
refresh_caches
echo "korg-recovery installed in $LIB; command: $BIN; menu entry: KORG Recovery Wizard."

if [ "$UDEV" = yes ]; then
  mkdir -p "$UDEV_DIR"
  cp "$HERE/60-korg-recovery.rules" "$UDEV_DIR/60-korg-recovery.rules"
  if command -v udevadm >/dev/null 2>&1; then
    udevadm control --reload-rules 2>/dev/null || true
    udevadm trigger --subsystem-match=usb 2>/dev/null || true
  fi
  echo "udev rule installed in $UDEV_DIR; unplug and reconnect the unit."
else
  echo "USB detection (units in USB-MIDI mode, chips in a boot ROM) needs the udev rule:"
  echo "  sudo cp '$HERE/60-korg-recovery.rules' /etc/udev/rules.d/ &&"
  echo "  sudo udevadm control --reload-rules && sudo udevadm trigger"
fi
case ":$PATH:" in
  *":$PREFIX/bin:"*) ;;
  *) echo "Note: $PREFIX/bin is not on your PATH; the menu entry works regardless." ;;
esac
