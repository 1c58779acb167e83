#!/usr/bin/env bash
# Installs what the project needs beyond the .NET 10 SDK: Debian's chrony package (chronyd and
# chronyc), used by the tests and the demo. Installing the package does not touch the clock:
# inside a container no service is started, and everything this project starts runs chronyd -x.
set -euo pipefail

if command -v chronyd >/dev/null 2>&1 && command -v chronyc >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: chrony is not installed and this is not root: run 'apt-get install -y chrony' as root" >&2
  exit 1
fi
echo "setup: installing chrony (apt-get install -y chrony)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chrony >/dev/null
# A package install may start the distribution's own chronyd where an init system runs; the
# project never relies on it and never touches it.
command -v chronyd >/dev/null && command -v chronyc >/dev/null || { echo "setup: chrony install failed" >&2; exit 1; }
