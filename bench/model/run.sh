#!/usr/bin/env bash
# Model-based test of the clock-status actor at bench scale: the same property as CI
# (tests/ClockBound.Actors.Tests/Model/ClockStatusModelSpecs.cs) with 10^6 sequences instead of 10^4 (about 15 minutes
# on 2 cores: 10^5 took 90 s). Prints the seed and the count before and the test's own summary after.
# Usage: bench/model/run.sh [SEED]   (default: the test's fixed seed; CLOCKBOUND_MODEL_ITERATIONS overrides the count)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CLOCKBOUND_MODEL_ITERATIONS="${CLOCKBOUND_MODEL_ITERATIONS:-1000000}"
if [ $# -gt 0 ]; then export CLOCKBOUND_MODEL_SEED="$1"; fi
echo "model bench: seed ${CLOCKBOUND_MODEL_SEED:-0000CBModel1 (the test default)}, ${CLOCKBOUND_MODEL_ITERATIONS} sequences"
dotnet build tests/ClockBound.Actors.Tests -c Release --nologo -v quiet -clp:ErrorsOnly
exec dotnet test tests/ClockBound.Actors.Tests -c Release --no-build --nologo \
  --filter "FullyQualifiedName~ClockStatusModelSpecs.Clock_status_actor_must_keep_its_safety_invariants" \
  --logger "console;verbosity=detailed"
