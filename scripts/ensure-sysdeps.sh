#!/usr/bin/env bash
# Install the Debian packages linewatch's tests and demo run against, when missing.
# influxdb (1.6.7 in Debian 12), net-snmp's snmpd and tools, tshark, softflowd, nfdump, busybox (the Grafana
# image's userland, for tests/docker), postgresql (initdb/pg_ctl for the tests' private cluster), slapd and
# ldap-utils (a private OpenLDAP for the LDAP login tests),
# chromium and fonts-noto-cjk (the web app's browser tests).
# dovecot-imapd (a private IMAP server for the invoice-intake tests).
# kamailio (the SIP proxy of the voice tests and demo PBX) and sip-tester (SIPp: callers and the carrier).
# poppler-utils (pdftoppm, pdftotext, pdffonts: the reports' PDF pages turned into PNG for the tests),
# tesseract-ocr with its Korean and English models (the tests read the pages back: Hangul must be drawn).
set -euo pipefail
declare -A need=( [influxd]=influxdb [snmpd]=snmpd [snmpbulkwalk]=snmp [tshark]=tshark
                  [softflowd]=softflowd [nfdump]=nfdump [nfcapd]=nfdump [busybox]=busybox
                  [slapd]=slapd [ldapsearch]=ldap-utils [msgfmt]=gettext [chromium]=chromium
                  [dovecot]=dovecot-imapd [kamailio]=kamailio [sipp]=sip-tester
                  [pdftoppm]=poppler-utils [pdffonts]=poppler-utils [tesseract]=tesseract-ocr )
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("${need[$cmd]}")
done
# The server binaries are not on PATH: /usr/lib/postgresql/<version>/bin.
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
# python-ldap (django-auth-ldap, the web app's LDAP login) builds against the OpenLDAP and SASL headers.
[ -e /usr/include/ldap.h ] || missing+=(libldap2-dev)
[ -e /usr/include/sasl/sasl.h ] || missing+=(libsasl2-dev)
# chromium drives the web app's browser tests (Playwright); fonts-noto-cjk lets its screenshots show Hangul.
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
# The report tests' OCR reads Korean and English (tesseract-ocr itself pulls only its OSD model).
for lang in kor eng; do
  compgen -G "/usr/share/tesseract-ocr/*/tessdata/$lang.traineddata" >/dev/null || missing+=("tesseract-ocr-$lang")
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
# slapd: no question, and no system directory database (the tests start their own slapd on a free port).
echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections 2>/dev/null || true
# postgresql: no "main" cluster in /var/lib/postgresql (the tests run initdb in a temporary folder). Only when
# this script installs postgresql-common; UCF_FORCE_CONFFOLD below keeps this file when the package sets it up.
if [[ " ${missing[*]} " == *" postgresql "* ]] && [ ! -e /etc/postgresql-common/createcluster.conf ]; then
  $SUDO mkdir -p /etc/postgresql-common
  printf '# Written by linewatch scripts/ensure-sysdeps.sh before installing postgresql: no default cluster.\ncreate_main_cluster = false\n' \
    | $SUDO tee /etc/postgresql-common/createcluster.conf >/dev/null
fi
$SUDO apt-get update -qq >/dev/null
# policy-rc.d keeps the packages' own services from starting: linewatch starts its own, on free ports.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null; $SUDO chmod +x /usr/sbin/policy-rc.d; trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO env DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1 \
  apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
