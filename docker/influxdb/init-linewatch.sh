#!/bin/bash
# One-shot set-up of InfluxDB 2.x for linewatch (the influxdb-init service of docker-compose.yml).
# Idempotent: safe to run on every `docker compose up`.
#   1. DBRP mapping: database "$LINEWATCH_INFLUX_DATABASE" / retention policy "autogen" -> the bucket, so the v1 API
#      (/write, /query with InfluxQL) that linewatch and Grafana use finds it.
#   2. One least-privilege v1 credential per client (InfluxDB 1.x compatibility authorizations: a username and
#      a password that the client sends as "Authorization: Token <username>:<password>"):
#        linewatch-collector  write the bucket only     (linewatch collect, demo network)
#        linewatch-alerting   read and write the bucket (linewatch alerts run: reads line_traffic, writes alert_events)
#        linewatch-grafana    read the bucket only      (the Grafana data source, grafana and grafana-wall)
#      Each password is a compose secret from .env (LINEWATCH_<CLIENT>_INFLUX_PASSWORD), mounted in this container
#      under $SECRETS_DIR and, in each client, only that client's own. A credential that exists already gets the
#      password from .env again, so changing it in .env and running `docker compose up` rotates it.
#      The operator token ($INFLUX_TOKEN) is used here only and never handed to a client.
# Environment: INFLUX_HOST, INFLUX_TOKEN_FILE or INFLUX_TOKEN, INFLUX_ORG (read by the influx CLI),
# INFLUXDB_BUCKET, LINEWATCH_INFLUX_DATABASE, SECRETS_DIR (default /run/secrets).
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/opt/linewatch/secrets.sh}"

secrets_dir="${SECRETS_DIR:-/run/secrets}"
if [[ -n ${INFLUX_TOKEN_FILE:-} ]]; then
    INFLUX_TOKEN=$(lw_read_secret INFLUXDB_ADMIN_TOKEN "$INFLUX_TOKEN_FILE") || exit 1
    export INFLUX_TOKEN
else
    lw_require_secret INFLUXDB_ADMIN_TOKEN "${INFLUX_TOKEN:-}" || exit 1
fi
: "${INFLUX_HOST:?}" "${INFLUX_ORG:?}" "${INFLUXDB_BUCKET:?}"
database="${LINEWATCH_INFLUX_DATABASE:-linewatch}"

# client  username  .env variable  permission flags (bucket id filled in below)
declare -a clients=(
    "collector|linewatch-collector|LINEWATCH_COLLECTOR_INFLUX_PASSWORD|write"
    "alerting|linewatch-alerting|LINEWATCH_ALERTING_INFLUX_PASSWORD|read write"
    "grafana|linewatch-grafana|LINEWATCH_GRAFANA_INFLUX_PASSWORD|read"
)
declare -A passwords=()
for entry in "${clients[@]}"; do  # every secret is checked before InfluxDB is touched
    IFS='|' read -r client _ setting _ <<<"$entry"
    passwords[$client]=$(lw_read_secret "$setting" "$secrets_dir/${client}_influx_password") || exit 1
done

bucket_id=$(influx bucket list --name "$INFLUXDB_BUCKET" --hide-headers | cut -f1)
if [[ -z $bucket_id ]]; then
    echo "influxdb-init: bucket $INFLUXDB_BUCKET not found in org $INFLUX_ORG" >&2
    exit 1
fi

if influx v1 dbrp list --db "$database" --hide-headers | grep -q .; then
    echo "influxdb-init: DBRP mapping for database $database exists"
else
    influx v1 dbrp create --db "$database" --rp autogen --bucket-id "$bucket_id" --default
    echo "influxdb-init: mapped database $database (rp autogen) to bucket $INFLUXDB_BUCKET"
fi

for entry in "${clients[@]}"; do
    IFS='|' read -r client username setting actions <<<"$entry"
    flags=()
    for action in $actions; do
        flags+=("--$action-bucket" "$bucket_id")
    done
    if influx v1 auth list --username "$username" --hide-headers 2>/dev/null | grep -q .; then
        influx v1 auth set-password --username "$username" --password "${passwords[$client]}" >/dev/null
        echo "influxdb-init: $username exists; password set from $setting"
    else
        influx v1 auth create --username "$username" --password "${passwords[$client]}" \
            --description "linewatch $client: $actions $INFLUXDB_BUCKET" "${flags[@]}" >/dev/null
        echo "influxdb-init: created $username ($actions $INFLUXDB_BUCKET, password from $setting)"
    fi
done
