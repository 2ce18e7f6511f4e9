#!/bin/bash
# Entry point of the linewatch image (collector, alert evaluator, demo network).
# InfluxDB credentials: LINEWATCH_INFLUX__TOKEN if set, or else the v1 credential "<INFLUX_V1_USER>:<password>"
# built from the compose secret INFLUX_PASSWORD_FILE names (/run/secrets/influx_password, readable by this
# container's user only; docker/influxdb/init-linewatch.sh gives that user its permissions). Each service gets
# only its own secret. INFLUX_PASSWORD_SETTING names the .env variable the secret comes from, for messages.
# INVENTORY_TOKEN_FILE (collector, alert evaluator): the compose secret of the bearer token for the web service's
# /api/inventory.json (.env LINEWATCH_INVENTORY_TOKEN), exported as LINEWATCH_INVENTORY__TOKEN.
# A placeholder secret ("change-me...", see .env.example) is refused before anything starts.
# Arguments are a linewatch subcommand ("collect", "alerts run"); "python ..." runs Python instead.
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/usr/local/lib/linewatch/secrets.sh}"

lw_export_influx_credential LINEWATCH_INFLUX__TOKEN || exit 1
if [[ -n ${INVENTORY_TOKEN_FILE:-} ]]; then
    LINEWATCH_INVENTORY__TOKEN=$(lw_read_secret LINEWATCH_INVENTORY_TOKEN "$INVENTORY_TOKEN_FILE") || exit 1
    export LINEWATCH_INVENTORY__TOKEN
fi

case "${1:-}" in
    python|python3) exec "$@" ;;
    *) exec linewatch "$@" ;;
esac
