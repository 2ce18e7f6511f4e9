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

# lw_export_influx_credential VAR: the InfluxDB credential of this container in VAR. A VAR set already is checked
# like any secret; otherwise, when INFLUX_PASSWORD_FILE names a compose secret, VAR is set and exported to the v1
# credential "<INFLUX_V1_USER>:<password>" (InfluxDB 2.x reads "Authorization: Token <v1 user>:<password>" on its
# v1 API, /write and /query). INFLUX_PASSWORD_SETTING names the .env variable the secret comes from, for messages.
lw_export_influx_credential() {
    local var=$1 password
    if [[ -n ${!var:-} ]]; then
        lw_require_secret "$var" "${!var}" || return 1
    elif [[ -n ${INFLUX_PASSWORD_FILE:-} ]]; then
        if [[ -z ${INFLUX_V1_USER:-} ]]; then
            echo "linewatch: refusing to start: INFLUX_PASSWORD_FILE is set but INFLUX_V1_USER is not" >&2
            return 1
        fi
        password=$(lw_read_secret "${INFLUX_PASSWORD_SETTING:-INFLUX_PASSWORD_FILE}" "$INFLUX_PASSWORD_FILE") \
            || return 1
        printf -v "$var" '%s' "$INFLUX_V1_USER:$password"
        export "${var?}"
    fi
}
