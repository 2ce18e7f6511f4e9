#!/bin/bash
# Entry point of the linewatch image (collector, alert evaluator, demo network).
# InfluxDB credentials: LINEWATCH_INFLUX__TOKEN if set, or else the v1 credential "<INFLUX_V1_USER>:<password>"
# built from the compose secret INFLUX_PASSWORD_FILE names (/run/secrets/influx_password, readable by this
# container's user only; docker/influxdb/init-linewatch.sh gives that user its permissions). Each service gets
# only its own secret. INFLUX_PASSWORD_SETTING names the .env variable the secret comes from, for messages.
# A placeholder secret ("change-me...", see .env.example) is refused before anything starts.
# Arguments are a linewatch subcommand ("collect", "alerts run"); "python ..." runs Python instead.
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/usr/local/lib/linewatch/secrets.sh}"

if [[ -n ${LINEWATCH_INFLUX__TOKEN:-} ]]; then
    lw_require_secret LINEWATCH_INFLUX__TOKEN "$LINEWATCH_INFLUX__TOKEN" || exit 1
elif [[ -n ${INFLUX_PASSWORD_FILE:-} ]]; then
    if [[ -z ${INFLUX_V1_USER:-} ]]; then
        echo "linewatch: refusing to start: INFLUX_PASSWORD_FILE is set but INFLUX_V1_USER is not" >&2
        exit 1
    fi
    password=$(lw_read_secret "${INFLUX_PASSWORD_SETTING:-INFLUX_PASSWORD_FILE}" "$INFLUX_PASSWORD_FILE") || exit 1
    # InfluxDB 2.x reads "Authorization: Token <v1 user>:<password>" on its v1 API (/write, /query).
    LINEWATCH_INFLUX__TOKEN="$INFLUX_V1_USER:$password"
    export LINEWATCH_INFLUX__TOKEN
    unset password
fi

case "${1:-}" in
    python|python3) exec "$@" ;;
    *) exec linewatch "$@" ;;
esac
