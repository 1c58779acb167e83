#!/usr/bin/env bash
# Removes what scripts/install.sh put in place, as listed in /var/lib/clockbound/install-manifest.
# A configuration file that was edited since it was installed is kept (its checksum differs).
# Without --destdir the service is first stopped and disabled (systemctl disable --now clockbound);
# with --destdir DIR only the staged tree under DIR is touched.
# /run/clockbound (the segment) is left alone: clients may still be reading it; it goes at reboot.
set -euo pipefail

usage() { echo "usage: scripts/uninstall.sh [--destdir DIR]"; }
die() { echo "uninstall: $*" >&2; exit 1; }

destdir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --destdir) [ $# -ge 2 ] || die "--destdir needs a directory"; destdir=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
if [ -n "$destdir" ]; then
  [ -d "$destdir" ] || die "--destdir $destdir is not a directory"
  destdir=$(cd "$destdir" && pwd)
elif [ "$(id -u)" -ne 0 ]; then
  die "uninstalling from / needs root: run as root"
fi

manifest=/var/lib/clockbound/install-manifest
[ -f "$destdir$manifest" ] || die "$destdir$manifest not found: nothing installed by scripts/install.sh"

if [ -z "$destdir" ] && command -v systemctl >/dev/null 2>&1 && [ -f /etc/systemd/system/clockbound.service ]; then
  systemctl disable --now clockbound.service || echo "uninstall: systemctl disable --now clockbound failed; continuing" >&2
fi

checksum() { sha256sum < "$1" | awk '{print $1}'; }
while read -r kind sum path; do
  case "$kind" in ''|'#'*) continue ;; esac
  target=$destdir$path
  case "$kind" in
    tree) rm -rf "$target" ;;
    link) if [ -L "$target" ]; then rm -f "$target"; fi ;;
    unit) rm -f "$target" ;;
    config)
      if [ ! -e "$target" ]; then continue; fi
      if [ "$(checksum "$target")" = "$sum" ]; then
        rm -f "$target"
      else
        echo "uninstall: kept $path: it was edited since it was installed" >&2
      fi
      ;;
    *) die "unknown entry '$kind' in $destdir$manifest" ;;
  esac
done < "$destdir$manifest"

rm -f "$destdir$manifest"
# Our own directories, when empty (shared ones such as PREFIX/bin stay).
rmdir "$destdir/etc/clockbound" "$destdir/var/lib/clockbound" 2>/dev/null || true

if [ -z "$destdir" ] && command -v systemctl >/dev/null 2>&1; then
  systemctl daemon-reload || true
fi
echo "uninstall: removed ClockBound.NET${destdir:+ from $destdir}"
