#!/bin/bash
# Entry point of the Grafana containers (grafana: logins only; grafana-wall: anonymous read-only wall displays).
#   1. Secrets: the admin password (GF_SECURITY_ADMIN_PASSWORD__FILE, a compose secret) and the InfluxDB read
#      credential are refused while they are the change-me placeholders of .env.example.
#   2. The data source's credential (LINEWATCH_GRAFANA_INFLUX_TOKEN, read by
#      grafana/provisioning/datasources/influxdb.yaml) is "<INFLUX_V1_USER>:<password>" from the compose secret
#      INFLUX_PASSWORD_FILE names, unless LINEWATCH_GRAFANA_INFLUX_TOKEN is set already.
#   3. Anonymous access never reaches finance: with GF_AUTH_ANONYMOUS_ENABLED on, Grafana is not started when any
#      dashboard its providers load (grafana/provisioning/*/dashboards/*.yaml, "path:") is tagged "finance".
# Then Grafana's own entry point (GRAFANA_RUN, default /run.sh).
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/usr/local/lib/linewatch/secrets.sh}"

if [[ -n ${GF_SECURITY_ADMIN_PASSWORD__FILE:-} ]]; then
    lw_read_secret GRAFANA_ADMIN_PASSWORD "$GF_SECURITY_ADMIN_PASSWORD__FILE" >/dev/null || exit 1
else
    lw_require_secret GRAFANA_ADMIN_PASSWORD "${GF_SECURITY_ADMIN_PASSWORD:-}" "GF_SECURITY_ADMIN_PASSWORD" || exit 1
fi

lw_export_influx_credential LINEWATCH_GRAFANA_INFLUX_TOKEN || exit 1

# Grafana's own boolean parsing (go-ini) takes these as true.
case "${GF_AUTH_ANONYMOUS_ENABLED:-false}" in
    1|t|T|true|TRUE|True|y|Y|yes|YES|Yes|on|ON|On) anonymous=1 ;;
    *) anonymous=0 ;;
esac
if [[ $anonymous == 1 ]]; then
    provisioning=${GF_PATHS_PROVISIONING:-/etc/grafana/provisioning}
    shopt -s nullglob
    for provider in "$provisioning"/dashboards/*.yaml "$provisioning"/dashboards/*.yml; do
        while IFS= read -r path; do
            path=${path%\"}; path=${path#\"}; path=${path%\'}; path=${path#\'}
            [[ -d $path ]] || continue
            # find + grep -l: the image's BusyBox grep has no --include.
            finance=$(find "$path" -name '*.json' -exec grep -l '"finance"' {} + || true)
            if [[ -n $finance ]]; then
                echo "linewatch: refusing to start: anonymous access is on (GF_AUTH_ANONYMOUS_ENABLED) and the" \
                    "provider $provider loads finance dashboards: $(echo "$finance" | tr '\n' ' ')-" \
                    "serve wall displays from the grafana-wall service (docker compose --profile wall), which" \
                    "mounts only the NOC, line and collector dashboards" >&2
                exit 1
            fi
        done < <(sed -n 's/^[[:space:]]*path:[[:space:]]*//p' "$provider")
    done
fi

exec "${GRAFANA_RUN:-/run.sh}" "$@"
