#!/bin/sh
# Entry point of the Grafana container: the data source's token (LINEWATCH_GRAFANA_INFLUX_TOKEN, used by
# grafana/provisioning/datasources/influxdb.yaml) comes from the environment, or else from the read-only token
# file docker/influxdb/init-linewatch.sh wrote. Then Grafana's own entry point.
set -eu
if [ -z "${LINEWATCH_GRAFANA_INFLUX_TOKEN:-}" ] && [ -n "${INFLUX_TOKEN_FILE:-}" ] && [ -s "$INFLUX_TOKEN_FILE" ]; then
    LINEWATCH_GRAFANA_INFLUX_TOKEN=$(cat "$INFLUX_TOKEN_FILE")
    export LINEWATCH_GRAFANA_INFLUX_TOKEN
fi
exec /run.sh "$@"
