#!/bin/bash
# One-shot set-up of InfluxDB 2.x for linewatch (the influxdb-init service of docker-compose.yml).
# Idempotent: safe to run on every `docker compose up`.
#   1. DBRP mapping: database "$LINEWATCH_INFLUX_DATABASE" / retention policy "autogen" -> the bucket, so the v1 API
#      (/write, /query with InfluxQL) that linewatch and Grafana use finds it.
#   2. Least-privilege API tokens, one per client, written to $TOKEN_DIR/<client>.token:
#        collector.token  write the bucket only          (linewatch collect)
#        alerting.token   read and write the bucket      (linewatch alerts run: reads line_traffic, writes alert_events)
#        grafana.token    read the bucket only           (the Grafana data source)
#      The operator token ($INFLUX_TOKEN) is used here only and never handed to a client.
# Environment: INFLUX_HOST, INFLUX_TOKEN, INFLUX_ORG (read by the influx CLI), INFLUXDB_BUCKET,
# LINEWATCH_INFLUX_DATABASE, TOKEN_DIR.
set -euo pipefail

: "${INFLUX_HOST:?}" "${INFLUX_TOKEN:?}" "${INFLUX_ORG:?}" "${INFLUXDB_BUCKET:?}"
database="${LINEWATCH_INFLUX_DATABASE:-linewatch}"
token_dir="${TOKEN_DIR:-/var/lib/linewatch-tokens}"

bucket_id=$(influx bucket list --name "$INFLUXDB_BUCKET" --hide-headers | cut -f1)
if [ -z "$bucket_id" ]; then
    echo "influxdb-init: bucket $INFLUXDB_BUCKET not found in org $INFLUX_ORG" >&2
    exit 1
fi

if influx v1 dbrp list --db "$database" --hide-headers | grep -q .; then
    echo "influxdb-init: DBRP mapping for database $database exists"
else
    influx v1 dbrp create --db "$database" --rp autogen --bucket-id "$bucket_id" --default
    echo "influxdb-init: mapped database $database (rp autogen) to bucket $INFLUXDB_BUCKET"
fi

mkdir -p "$token_dir"
chmod 0755 "$token_dir"

create_token() {  # name description permission-flags...
    local name=$1 description=$2
    shift 2
    local file="$token_dir/$name.token"
    if [ -s "$file" ]; then
        echo "influxdb-init: $file exists, keeping it"
        return
    fi
    local token
    token=$(influx auth create --description "$description" "$@" --json \
        | grep -o '"token": *"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')
    if [ -z "$token" ]; then
        echo "influxdb-init: could not create the $name token" >&2
        exit 1
    fi
    printf '%s' "$token" > "$file.tmp"
    chmod 0444 "$file.tmp"  # read by the grafana (uid 472) and linewatch (uid 10001) containers
    mv "$file.tmp" "$file"
    echo "influxdb-init: created $name token ($description)"
}

create_token collector "linewatch collector: write $INFLUXDB_BUCKET" --write-bucket "$bucket_id"
create_token alerting "linewatch alert evaluator: read and write $INFLUXDB_BUCKET" \
    --read-bucket "$bucket_id" --write-bucket "$bucket_id"
create_token grafana "Grafana: read $INFLUXDB_BUCKET" --read-bucket "$bucket_id"
