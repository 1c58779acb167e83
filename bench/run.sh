#!/usr/bin/env bash
# Builds and runs the benchmarks of ClockBoundClient.Now() and prints one table:
#   - bench/clock_reads.c (gcc -O2): the two bare clock reads every client makes, CLOCK_REALTIME + CLOCK_MONOTONIC_COARSE;
#   - bench/ClockBound.Benchmarks (BenchmarkDotNet, Release, memory diagnoser): Now() with disruption support off and on,
#     and each step of its hot path.
# Usage: bench/run.sh    (about 3-4 minutes on 2 cores). Output and BenchmarkDotNet reports go to bench/out/.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="$here/out"
mkdir -p "$out"

gcc -O2 -Wall -Wextra -o "$out/clock_reads" "$here/clock_reads.c"
dotnet build -c Release -nologo -v quiet "$here/ClockBound.Benchmarks" >"$out/build.log" \
  || { cat "$out/build.log"; exit 1; }

echo "== C, gcc -O2: two bare clock reads, 10^7 pairs x 5 batches" >&2
"$out/clock_reads" 10000000 | tee "$out/clock_reads.txt" >&2
c_median="$(sed -n 's/^median_ns_per_call=//p' "$out/clock_reads.txt")"

echo "== BenchmarkDotNet (log: $out/bdn.log)" >&2
rm -rf "$out/bdn"
dotnet "$here/ClockBound.Benchmarks/bin/Release/net10.0/ClockBound.Benchmarks.dll" --filter '*' --artifacts "$out/bdn" >"$out/bdn.log" 2>&1 \
  || { tail -40 "$out/bdn.log"; exit 1; }
report="$(ls "$out"/bdn/results/*joined*-report.csv)"

echo
echo "$(date -u '+%Y-%m-%d %H:%M UTC'), $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs, Linux $(uname -r), .NET $(dotnet --version)"
printf '| %-62s | %-13s | %11s | %9s |\n' "what" "disruption" "median (ns)" "alloc (B)"
printf '|%s|%s|%s|%s|\n' "$(printf -- '-%.0s' {1..64})" "$(printf -- '-%.0s' {1..15})" "$(printf -- '-%.0s' {1..13})" "$(printf -- '-%.0s' {1..11})"
printf '| %-62s | %-13s | %11s | %9s |\n' "C: clock_gettime(REALTIME) + clock_gettime(MONOTONIC_COARSE)" "-" "$c_median" "-"
# The joined CSV report (no benchmark name contains a comma); columns are picked by their header names.
awk -F, '
  function unquote(s) { gsub(/^\x27|\x27$/, "", s); return s }
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    disruption = ("Disruption" in col) ? $col["Disruption"] : "-"; if (disruption == "?") disruption = "-"
    median = $col["Median"]; sub(/ ns$/, "", median)
    allocated = $col["Allocated"]; if (allocated == "0 B") allocated = "0"
    printf "| %-62s | %-13s | %11s | %9s |\n", ".NET: " unquote($col["Method"]), disruption, median, allocated
  }' "$report"
