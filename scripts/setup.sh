#!/usr/bin/env bash
# Installs what the project needs beyond the .NET 10 SDK: Debian's chrony package (chronyd and
# chronyc), used by the tests and the demo, Debian's prometheus package (prometheus and promtool, for
# the tests of deploy/prometheus/), and the few system tools the tests call.
# Never touch the clock: the package's own chronyd service is neither started nor enabled by this
# script (everything the project starts runs chronyd -x, which never adjusts the clock). Nor is the
# prometheus package's service: the tests start their own prometheus on 127.0.0.1 with their own
# configuration and data directory.
set -euo pipefail

need=()
command -v chronyd >/dev/null 2>&1 && command -v chronyc >/dev/null 2>&1 || need+=(chrony)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)   # the tests verify the unit files
command -v ss >/dev/null 2>&1 || need+=(iproute2)                # the tests check chronyd's UDP ports
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || need+=(prometheus)  # the rules' and dashboard's tests
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages and this is not root: run 'apt-get install -y ${need[*]}' as root" >&2
  exit 1
fi
echo "setup: installing ${need[*]} (apt-get install -y)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d exit 101 = "action forbidden": the install must not start chrony.service on a host
# with a running init system (that chronyd would discipline the system clock), nor prometheus.service
# (it would listen on :9090 and scrape for nobody).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=1
fi
trap '[ "$own_policy" -eq 1 ] && rm -f "$policy"' EXIT
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [[ " ${need[*]} " == *" chrony "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable chrony.service >/dev/null 2>&1 || true
fi
if [[ " ${need[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
  systemctl disable prometheus.service >/dev/null 2>&1 || true
fi
for tool in chronyd chronyc systemd-analyze ss prometheus promtool; do
  command -v "$tool" >/dev/null || { echo "setup: $tool is still missing after apt-get install ${need[*]}" >&2; exit 1; }
done
