#!/usr/bin/env bash
# The README's "run it" command: a sandboxed real chronyd pair (chronyd -x, loopback only: the system clock is never
# touched), a VMClock file and the clockbound daemon writing its segment under a temporary directory, with a live
# status view. Ctrl-C (or q) stops everything it started. Extra arguments go to the demo (e.g. --seconds 20).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
dotnet build src/Demo -c Release --nologo -v quiet -clp:ErrorsOnly
exec dotnet src/Demo/bin/Release/net10.0/clockbound-demo.dll "$@"
