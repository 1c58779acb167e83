#!/usr/bin/env bash
# Daemon benchmarks: publishes clockbound (Release, ReadyToRun, framework-dependent, as a deployment would) and an empty
# console app, then runs bench/ClockBound.DaemonBench against a sandboxed chronyd pair (chronyd -x, loopback only: the
# system clock is never touched) and a VMClock file, and prints Markdown tables. Parts (default: all): start (cold start
# and warm restart), bump (to Disrupted and to Synchronized again), steady (CPU, memory, per thread, next to an empty
# app and a floor thread), rates (three poll settings in one window), rtt (chrony round trip).
# Usage: bench/daemon/run.sh [bench options, e.g. --only start,bump --bumps 20] [-- extra daemon arguments, e.g. -c FILE]
# (rates passes its own -c: no -c among the extra daemon arguments with it). $BENCH_OUT: where to publish (default /tmp/clockbound-bench).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh >/dev/null
out="${BENCH_OUT:-/tmp/clockbound-bench}"
publish=(-c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true --nologo -v quiet -clp:ErrorsOnly)
dotnet publish src/Host "${publish[@]}" -o "$out/daemon"
dotnet publish bench/EmptyConsole "${publish[@]}" -o "$out/empty"
dotnet build bench/ClockBound.DaemonBench -c Release --nologo -v quiet -clp:ErrorsOnly -o "$out/bench"
exec dotnet "$out/bench/ClockBound.DaemonBench.dll" --daemon "$out/daemon/clockbound" --empty "$out/empty/EmptyConsole" "$@"
