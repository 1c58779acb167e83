#!/usr/bin/env bash
# Runs every test of the project and ends with one line "N passed, N failed[, N skipped]".
# Exit status: 0 only when every test passed and at least one ran.
set -uo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }

results=$(mktemp -d "${TMPDIR:-/tmp}/clockbound-test-results.XXXXXX")
trap 'rm -rf "$results"' EXIT

# Build once, then run the test projects one after another: the end-to-end suites start real daemons and chronyd
# pairs, and on a 2-core machine two of them at once would measure each other's scheduling noise.
status=0
dotnet build ClockBound.sln -c Release --nologo -v quiet -clp:ErrorsOnly || status=$?
if [ "$status" -eq 0 ]; then
  for project in tests/*/*.Tests.csproj; do
    echo "=== $project"
    dotnet test "$project" -c Release --no-build --nologo \
      --logger "trx" --logger "console;verbosity=normal" --results-directory "$results" || status=$?
  done
fi

passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed) + $(get error) + $(get timeout) + $(get aborted)))
  skipped=$((skipped + $(get notExecuted)))
done

# A test host that crashed leaves no (or an incomplete) result file: count the run as failed.
expected=$(ls tests/*/*.Tests.csproj | wc -l)
if [ "$files" -lt "$expected" ]; then
  echo "only $files of $expected test projects left results" >&2
  failed=$((failed + expected - files)); status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
if [ "$files" -eq 0 ] || [ "$passed" -eq 0 ]; then status=1; fi

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
