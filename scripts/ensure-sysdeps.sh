#!/usr/bin/env bash
# Install the Debian packages linewatch's tests and demo run against, when missing.
# influxdb (1.6.7 in Debian 12), net-snmp's snmpd and tools, tshark, softflowd, nfdump, busybox (the Grafana
# image's userland, for tests/docker).
set -euo pipefail
declare -A need=( [influxd]=influxdb [snmpd]=snmpd [snmpbulkwalk]=snmp [tshark]=tshark
                  [softflowd]=softflowd [nfdump]=nfdump [nfcapd]=nfdump [busybox]=busybox )
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${need[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
pkgs=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
if [ "$(id -u)" -ne 0 ] && ! command -v sudo >/dev/null; then
  echo "linewatch: missing Debian packages: $pkgs — install them (apt-get install $pkgs) and retry" >&2
  exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
echo "linewatch: installing Debian packages: $pkgs" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections 2>/dev/null || true
$SUDO apt-get update -qq >/dev/null
# policy-rc.d keeps the packages' own services from starting: linewatch starts its own, on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
