#!/usr/bin/env bash
# Build the venv that tests/snmpsim runs snmpsim in (real-device recordings from snmpsim-data), when missing.
#
#   scripts/ensure-snmpsim.sh [VENV_DIR]      default: .venv/snmpsim in the project
#
# snmpsim started as root drops privileges to nobody/nogroup, so its Python must be readable by nobody:
# the venv is built on Debian's own /usr/bin/python3 (not a pyenv under /root), with python3-gdbm for its
# dbm indexes. When nobody cannot reach VENV_DIR (a work tree under a 0700 folder), the venv goes to
# /var/tmp/linewatch-snmpsim-venv instead, where linewatch.servers.snmpsim also looks. No permission of an
# existing file or folder is changed.
set -euo pipefail
cd "$(dirname "$0")/.."
PINS=(snmpsim==1.2.2 snmpsim-data==1.0.1 pysnmp==7.1.30)
FALLBACK=/var/tmp/linewatch-snmpsim-venv
venv=${1:-.venv/snmpsim}
case "$venv" in /*) ;; *) venv="$PWD/$venv" ;; esac

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
missing=()
[ -x /usr/bin/python3 ] || missing+=(python3)
/usr/bin/python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
/usr/bin/python3 -c 'import dbm.gnu' 2>/dev/null || missing+=(python3-gdbm)
if [ ${#missing[@]} -gt 0 ]; then
  if [ -n "$SUDO" ] && ! command -v sudo >/dev/null; then
    echo "linewatch: missing Debian packages for snmpsim: ${missing[*]} — apt-get install ${missing[*]}" >&2; exit 1
  fi
  echo "linewatch: installing Debian packages: ${missing[*]}" >&2
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# As root, the venv must be reachable by nobody after the privilege drop.
if [ "$(id -u)" -eq 0 ]; then
  mkdir -p "$(dirname "$venv")"
  if ! runuser -u nobody -- test -x "$(dirname "$venv")" 2>/dev/null; then
    echo "linewatch: nobody cannot reach $(dirname "$venv"); building the snmpsim venv in $FALLBACK" >&2
    venv=$FALLBACK
  fi
fi

stamp="$venv/.linewatch-pins"
if [ -x "$venv/bin/snmpsim-command-responder" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${PINS[*]}" ]; then
  exit 0
fi
echo "linewatch: building the snmpsim venv in $venv (${PINS[*]})" >&2
rm -rf "$venv"
pip_log=$(mktemp)
if ! (umask 022 && /usr/bin/python3 -m venv "$venv" && "$venv/bin/python" -m pip install -q "${PINS[@]}") >"$pip_log" 2>&1; then
  cat "$pip_log" >&2; rm -f "$pip_log"; echo "linewatch: building the snmpsim venv in $venv failed" >&2; exit 1
fi
rm -f "$pip_log"
"$venv/bin/python" -c 'import snmpsim, snmpsim_data, dbm.gnu'
echo "${PINS[*]}" > "$stamp"
