#!/usr/bin/env bash
# Installs ClockBound.NET: publishes a Release ReadyToRun build of the clockbound daemon
# (framework-dependent: the host needs the .NET 10 runtime) and installs
#   PREFIX/lib/clockbound/            the published directory
#   PREFIX/bin/clockbound             a symlink to ../lib/clockbound/clockbound
#   /etc/clockbound/clockbound.conf   the default configuration, for reference (never overwritten)
#   /etc/systemd/system/clockbound.service   the unit matching the systemd version
#   /var/lib/clockbound/install-manifest     what was installed, for scripts/uninstall.sh
# It changes nothing else (no systemctl action): the remaining manual steps are printed at the end.
# With --destdir DIR everything is staged under DIR and the system is not touched.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: scripts/install.sh [--prefix DIR] [--destdir DIR] [--systemd-version N] [--chrony-user USER]
                          [--publish-dir DIR]
  --prefix DIR           installation prefix (default /usr/local)
  --destdir DIR          stage everything under DIR instead of / (packaging, tests)
  --systemd-version N    pick the unit for this systemd version instead of asking systemctl
  --chrony-user USER     chronyd's user, which the daemon runs as (default: chrony, or _chrony
                         on Debian/Ubuntu, whichever exists here)
  --publish-dir DIR      install this already published directory instead of publishing
EOF
}

die() { echo "install: $*" >&2; exit 1; }

repo=$(cd "$(dirname "$0")/.." && pwd)
prefix=/usr/local
destdir=""
systemd_version=""
chrony_user=""
publish_dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; prefix=$2; shift 2 ;;
    --destdir) [ $# -ge 2 ] || die "--destdir needs a directory"; destdir=$2; shift 2 ;;
    --systemd-version) [ $# -ge 2 ] || die "--systemd-version needs a number"; systemd_version=$2; shift 2 ;;
    --chrony-user) [ $# -ge 2 ] || die "--chrony-user needs a user name"; chrony_user=$2; shift 2 ;;
    --publish-dir) [ $# -ge 2 ] || die "--publish-dir needs a directory"; publish_dir=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done

case "$prefix" in /*) ;; *) die "--prefix must be an absolute path, got '$prefix'" ;; esac
prefix=${prefix%/}
if [ -n "$destdir" ]; then
  mkdir -p "$destdir"
  destdir=$(cd "$destdir" && pwd)
elif [ "$(id -u)" -ne 0 ]; then
  die "installing into / needs root: run as root, or stage with --destdir DIR"
fi

# --- Which unit: RuntimeDirectoryPreserve (keeps the segment across restarts) exists since systemd 235.
if [ -z "$systemd_version" ]; then
  command -v systemctl >/dev/null 2>&1 || die "systemctl not found: pass --systemd-version N"
  # First line: "systemd 252 (252.38-1~deb12u1)".
  systemd_version=$(systemctl --version | head -n 1 | awk '{print $2}')
fi
systemd_version=${systemd_version%%[!0-9]*}
[ -n "$systemd_version" ] || die "cannot read the systemd version (pass --systemd-version N)"
if [ "$systemd_version" -ge 235 ]; then unit_source=$repo/config/clockbound.service
else unit_source=$repo/config/clockbound-pre235.service; fi

# --- The daemon runs as chronyd's user (it binds its client socket in chronyd's socket directory).
# The shipped units say "chrony" (Amazon Linux, RHEL); Debian and Ubuntu name it "_chrony".
if [ -z "$chrony_user" ]; then
  if getent passwd chrony >/dev/null 2>&1; then chrony_user=chrony
  elif getent passwd _chrony >/dev/null 2>&1; then chrony_user=_chrony
  else
    chrony_user=chrony
    echo "install: no chrony or _chrony user here: the unit runs as 'chrony' (pass --chrony-user USER to change it)" >&2
  fi
fi
[[ "$chrony_user" =~ ^[A-Za-z_][A-Za-z0-9_.-]*$ ]] || die "--chrony-user: '$chrony_user' is not a user name"
chrony_group=$(id -gn "$chrony_user" 2>/dev/null || echo "$chrony_user")

# --- Publish (or take an already published directory).
build=""
cleanup() { [ -z "$build" ] || rm -rf "$build"; }
trap cleanup EXIT
if [ -z "$publish_dir" ]; then
  case "$(uname -m)" in
    x86_64|amd64) rid=linux-x64 ;;
    aarch64|arm64) rid=linux-arm64 ;;
    *) die "unsupported machine '$(uname -m)': .NET runs on x86_64 and aarch64" ;;
  esac
  command -v dotnet >/dev/null 2>&1 || die "dotnet not found: publishing needs the .NET 10 SDK"
  build=$(mktemp -d "${TMPDIR:-/tmp}/clockbound-publish.XXXXXX")
  publish_dir=$build/publish
  echo "install: publishing src/Host (Release, ReadyToRun, $rid, framework-dependent)" >&2
  # --artifacts-path keeps the build out of the source tree (its obj/ and bin/ stay as the developer left them);
  # --disable-build-servers leaves no compiler or MSBuild server running after the install.
  dotnet publish "$repo/src/Host" -c Release -r "$rid" --self-contained false -p:PublishReadyToRun=true \
    --artifacts-path "$build/artifacts" -o "$publish_dir" --disable-build-servers --nologo -v quiet >&2 \
    || die "dotnet publish src/Host failed (ReadyToRun needs the runtime and crossgen2 packs from NuGet)"
fi
[ -x "$publish_dir/clockbound" ] || die "$publish_dir/clockbound is missing or not executable"

# --- Paths (as on the target system; $destdir is prepended when writing).
libdir=$prefix/lib/clockbound
link=$prefix/bin/clockbound
link_target=../lib/clockbound/clockbound
unit=/etc/systemd/system/clockbound.service
config=/etc/clockbound/clockbound.conf
manifest=/var/lib/clockbound/install-manifest

# The previous manifest says what is ours: a file we did not install is never replaced.
previous=""
[ -f "$destdir$manifest" ] && previous=$(cat "$destdir$manifest")
recorded() { printf '%s\n' "$previous" | awk -v kind="$1" -v path="$2" '$1 == kind && substr($0, index($0, $3)) == path { print; exit }'; }

if [ -e "$destdir$link" ] || [ -L "$destdir$link" ]; then
  [ "$(readlink "$destdir$link" || true)" = "$link_target" ] \
    || die "$destdir$link exists and is not ClockBound.NET's link (the reference daemon?): remove it first, or use another --prefix"
fi
if [ -e "$destdir$unit" ] && [ -z "$(recorded unit "$unit")" ]; then
  die "$destdir$unit exists and was not installed by this script: remove it first (systemctl disable --now clockbound)"
fi

# --- The published directory: staged next to the old one, then swapped in.
mkdir -p "$destdir$prefix/lib" "$destdir$prefix/bin"
rm -rf "$destdir$libdir.new" "$destdir$libdir.old"
cp -R "$publish_dir" "$destdir$libdir.new"
chmod -R u=rwX,go=rX "$destdir$libdir.new"
chmod 0755 "$destdir$libdir.new/clockbound"
[ -e "$destdir$libdir" ] && mv "$destdir$libdir" "$destdir$libdir.old"
mv "$destdir$libdir.new" "$destdir$libdir"
rm -rf "$destdir$libdir.old"
ln -sfn "$link_target" "$destdir$link"
# A previous install under another prefix: its tree and link go.
printf '%s\n' "$previous" | while read -r kind _ path; do
  case "$kind" in
    tree) [ "$path" = "$libdir" ] || rm -rf "$destdir$path" ;;
    link) [ "$path" = "$link" ] || { [ -L "$destdir$path" ] && rm -f "$destdir$path"; } || true ;;
  esac
done

# --- The unit, with ExecStart pointing at this prefix and chronyd's user.
mkdir -p "$destdir$(dirname "$unit")"
sed -e "s|^ExecStart=/usr/local/bin/clockbound|ExecStart=$link|" \
    -e "s|^User=chrony\$|User=$chrony_user|" -e "s|^Group=chrony\$|Group=$chrony_group|" \
    -e "s|chown chrony:chrony|chown $chrony_user:$chrony_group|" "$unit_source" > "$destdir$unit.tmp"
chmod 0644 "$destdir$unit.tmp"
mv "$destdir$unit.tmp" "$destdir$unit"

# --- The configuration: never overwritten. An existing one stays recorded only if this script installed it.
mkdir -p "$destdir$(dirname "$config")"
config_line=""
if [ -e "$destdir$config" ]; then
  config_line=$(recorded config "$config")
  echo "install: kept the existing $config (the shipped defaults are in $repo/config/clockbound.conf)" >&2
else
  install -m 0644 "$repo/config/clockbound.conf" "$destdir$config"
  config_line="config $(sha256sum < "$destdir$config" | awk '{print $1}') $config"
fi

# --- The manifest: "kind sha256|- path", one line per installed item.
mkdir -p "$destdir$(dirname "$manifest")"
{
  echo "# ClockBound.NET install manifest (scripts/uninstall.sh): kind sha256 path"
  echo "tree - $libdir"
  echo "link - $link"
  echo "unit $(sha256sum < "$destdir$unit" | awk '{print $1}') $unit"
  [ -z "$config_line" ] || echo "$config_line"
} > "$destdir$manifest.tmp"
mv "$destdir$manifest.tmp" "$destdir$manifest"

unit_name=$(basename "$unit_source")
if [ -n "$destdir" ]; then
  echo "install: staged under $destdir ($unit_name for systemd $systemd_version, user $chrony_user); nothing on this system changed"
  exit 0
fi
cat <<EOF
install: installed $link -> $libdir/clockbound, $unit ($unit_name for systemd $systemd_version, user $chrony_user), $config
Remaining steps (as root):
  1. chrony: add 'maxclockerror 50' to /etc/chrony/chrony.conf (or /etc/chrony.conf), matching the
     unit's --max-drift-rate 50, then restart chronyd (systemctl restart chrony  or  chronyd).
  2. VMClock (EC2 instances with clock-disruption support): chmod a+r /dev/vmclock0
     (the unit also does it at each start).
  3. systemctl daemon-reload && systemctl enable --now clockbound
     (after an upgrade: systemctl daemon-reload && systemctl restart clockbound)
  4. Check: clockbound now;  journalctl -u clockbound
EOF
