#!/usr/bin/env bash
# Soak: the published daemon (Release, ReadyToRun, staged by scripts/install.sh --destdir exactly as an install lays it
# out) against a sandboxed chronyd pair (chronyd -x, loopback only: the system clock is never touched) and a VMClock
# file, for N minutes under a seeded random fault campaign, with 4 reader processes, an invariant checker and leak
# samples every minute. Prints one table; exit 1 on any violation, torn or failed read.
# Usage: bench/soak/run.sh --minutes N [--seed S] [--min-run M] [--trx FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/clockbound-soak.XXXXXX")
driver_pid=""
cleanup() {
  # The driver stops its own daemons, readers and chronyds; only it is ours to stop here, by its PID.
  if [ -n "$driver_pid" ] && kill -0 "$driver_pid" 2>/dev/null; then kill -TERM "$driver_pid"; wait "$driver_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --systemd-version and --chrony-user only shape the staged unit, which the soak does not use: given, so that staging
# detects nothing on this machine.
scripts/install.sh --destdir "$work/stage" --systemd-version 252 --chrony-user _chrony >/dev/null
dotnet build bench/soak/ClockBound.Soak -c Release --nologo -v quiet -clp:ErrorsOnly >/dev/null
# A copy of the driver with the staged daemon next to it, where TestSupport's DaemonProcess looks for `clockbound`
# (through the same relative symlink the install makes in PREFIX/bin: the apphost follows it to its own directory).
cp -r bench/soak/ClockBound.Soak/bin/Release/net10.0 "$work/driver"
ln -s "$work/stage/usr/local/lib/clockbound/clockbound" "$work/driver/clockbound"

dotnet "$work/driver/ClockBound.Soak.dll" "$@" &
driver_pid=$!
status=0
wait "$driver_pid" || status=$?
driver_pid=""
exit "$status"
