#!/usr/bin/env bash
# Installs what the project needs beyond the .NET 10 SDK: Debian's chrony package (chronyd and
# chronyc), used by the tests and the demo, and the few system tools the tests call. Installing the package does not touch the clock:
# inside a container no service is started, and everything this project starts runs chronyd -x.
set -euo pipefail

need=()
command -v chronyd >/dev/null 2>&1 && command -v chronyc >/dev/null 2>&1 || need+=(chrony)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)   # the tests verify the unit files
command -v ss >/dev/null 2>&1 || need+=(iproute2)                # the tests check chronyd's UDP ports
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages and this is not root: run 'apt-get install -y ${need[*]}' as root" >&2
  exit 1
fi
echo "setup: installing ${need[*]} (apt-get install -y)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
# A package install may start the distribution's own chronyd where an init system runs; the
# project never relies on it and never touches it.
for tool in chronyd chronyc systemd-analyze ss; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is still missing after apt-get install ${need[*]}" >&2; exit 1; }
done
