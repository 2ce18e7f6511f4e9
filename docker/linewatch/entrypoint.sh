#!/bin/sh
# Entry point of the linewatch image.
# The InfluxDB token comes from LINEWATCH_INFLUX__TOKEN, or else from the file INFLUX_TOKEN_FILE names (written by
# docker/influxdb/init-linewatch.sh into the shared influx-tokens volume; waits up to 60 s for it to appear).
# Arguments are a linewatch subcommand ("collect", "alerts run"); "python ..." runs Python instead.
set -eu

if [ -z "${LINEWATCH_INFLUX__TOKEN:-}" ] && [ -n "${INFLUX_TOKEN_FILE:-}" ]; then
    waited=0
    while [ ! -s "$INFLUX_TOKEN_FILE" ]; do
        if [ "$waited" -ge 60 ]; then
            echo "linewatch: no InfluxDB token in $INFLUX_TOKEN_FILE after 60 s (did influxdb-init run?)" >&2
            exit 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
    LINEWATCH_INFLUX__TOKEN=$(cat "$INFLUX_TOKEN_FILE")
    export LINEWATCH_INFLUX__TOKEN
fi

case "${1:-}" in
    python|python3) exec "$@" ;;
    *) exec linewatch "$@" ;;
esac
