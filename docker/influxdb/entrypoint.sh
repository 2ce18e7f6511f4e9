#!/bin/bash
# Entry point of the influxdb service: refuses the change-me placeholders of .env.example for the admin password
# and the operator token (compose secrets the image's first-start set-up reads through
# DOCKER_INFLUXDB_INIT_PASSWORD_FILE and DOCKER_INFLUXDB_INIT_ADMIN_TOKEN_FILE), then runs the image's own
# entry point (/entrypoint.sh) with the command (influxd).
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/opt/linewatch/secrets.sh}"

check() {  # .env variable, the image's variable
    local setting=$1 variable=$2 file_variable="${2}_FILE"
    if [[ -n ${!file_variable:-} ]]; then
        lw_read_secret "$setting" "${!file_variable}" >/dev/null
    else
        lw_require_secret "$setting" "${!variable:-}" "$variable"
    fi
}
check INFLUXDB_ADMIN_PASSWORD DOCKER_INFLUXDB_INIT_PASSWORD || exit 1
check INFLUXDB_ADMIN_TOKEN DOCKER_INFLUXDB_INIT_ADMIN_TOKEN || exit 1

exec "${INFLUXDB_IMAGE_ENTRYPOINT:-/entrypoint.sh}" "$@"
