# shellcheck shell=bash
# Secret handling shared by linewatch's container entry points (sourced, bash 4+):
#   docker/linewatch/entrypoint.sh   collector, alert evaluator, demo network
#   docker/grafana/entrypoint.sh     Grafana (logins) and Grafana wall (anonymous)
#   docker/influxdb/entrypoint.sh    the InfluxDB server
#   docker/influxdb/init-linewatch.sh
# A secret that is empty or still the "change-me..." placeholder of .env.example is refused, naming the .env
# variable it comes from; so is one shorter than 8 characters. The value itself is never printed.

LW_SECRET_MIN_LENGTH=8

# lw_is_placeholder VALUE: true for an empty value or one that starts with change-me / changeme (any case).
lw_is_placeholder() {
    local value=${1,,}
    [[ -z $value || $value == change-me* || $value == changeme* || $value == change_me* ]]
}

# lw_require_secret NAME VALUE [WHERE]: fail (status 1, message on stderr) when VALUE is a placeholder or shorter
# than LW_SECRET_MIN_LENGTH.
lw_require_secret() {
    local name=$1 value=$2 where=${3:-}
    if lw_is_placeholder "$value"; then
        echo "linewatch: refusing to start: $name${where:+ ($where)} is empty or still the change-me" \
            "placeholder from .env.example; set a real secret in .env (e.g. openssl rand -hex 32)" \
            "and run docker compose up again" >&2
        return 1
    fi
    if (( ${#value} < LW_SECRET_MIN_LENGTH )); then
        echo "linewatch: refusing to start: $name${where:+ ($where)} is shorter than $LW_SECRET_MIN_LENGTH" \
            "characters (InfluxDB's set-up refuses shorter passwords); set a longer secret in .env" \
            "(e.g. openssl rand -hex 32)" >&2
        return 1
    fi
}

# lw_read_secret NAME FILE: print the secret in FILE (a compose secret under /run/secrets), without trailing
# newlines; fail naming NAME (the .env variable) when the file is missing, unreadable or a placeholder.
lw_read_secret() {
    local name=$1 file=$2 value
    if [[ ! -e $file ]]; then
        echo "linewatch: refusing to start: $name: secret file $file does not exist" \
            "(is the secret listed under this service's secrets: in docker-compose.yml?)" >&2
        return 1
    fi
    if [[ ! -r $file ]]; then
        echo "linewatch: refusing to start: $name: secret file $file is not readable by uid $(id -u)" \
            "(set uid/mode of the service's secret in docker-compose.yml)" >&2
        return 1
    fi
    value=$(<"$file")
    lw_require_secret "$name" "$value" "secret file $file" || return 1
    printf '%s' "$value"
}
