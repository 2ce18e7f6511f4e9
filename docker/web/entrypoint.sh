#!/bin/bash
# Entry point of the web service: the management application (image target "web" of docker/linewatch/Dockerfile).
# Its secrets are compose secrets under /run/secrets (readable by the image's user only); each is refused while
# it is still the change-me placeholder of .env.example (or shorter than 8 characters), naming its .env variable:
#   WEB_SECRET_KEY_FILE        LINEWATCH_WEB_SECRET_KEY        -> LINEWATCH_WEB__SECRET_KEY
#   WEB_CREDENTIALS_KEY_FILE   LINEWATCH_WEB_CREDENTIALS_KEY   -> LINEWATCH_WEB__CREDENTIALS_KEY
#   INVENTORY_TOKEN_FILE       LINEWATCH_INVENTORY_TOKEN       -> LINEWATCH_WEB__INVENTORY_TOKEN (the collectors')
#   POSTGRES_PASSWORD_FILE     POSTGRES_PASSWORD               -> LINEWATCH_WEB__DATABASE_URL
#     postgresql://POSTGRES_USER:<password, percent-encoded>@POSTGRES_HOST:POSTGRES_PORT/POSTGRES_DB
# With the command "gunicorn ..." (the service's): `linewatch web migrate`, collectstatic, on the first start the
# import of WEB_INITIAL_IMPORT_DIR (lines.yaml, contracts.yaml, carriers.yaml; only while the database holds no
# line, so later starts keep what was changed in the app), then gunicorn. "inventory ..." is `linewatch inventory`;
# any other command a `linewatch web` subcommand:  docker compose run --rm web manage createsuperuser
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/usr/local/lib/linewatch/secrets.sh}"

# export_secret SETTING FILE_VARIABLE VARIABLE: VARIABLE (exported) := the secret in the file FILE_VARIABLE names.
export_secret() {
    local setting=$1 file_variable=$2 variable=$3 value
    if [[ -z ${!file_variable:-} ]]; then
        echo "linewatch: refusing to start: $file_variable is not set (the file of the $setting secret)" >&2
        return 1
    fi
    value=$(lw_read_secret "$setting" "${!file_variable}") || return 1
    printf -v "$variable" '%s' "$value"
    export "${variable?}"
}

# urlencode VALUE: VALUE percent-encoded byte by byte (RFC 3986 unreserved characters kept).
urlencode() {
    local LC_ALL=C value=$1 out="" char i
    for ((i = 0; i < ${#value}; i++)); do
        char=${value:i:1}
        case $char in
            [a-zA-Z0-9.~_-]) out+=$char ;;
            *) printf -v char '%%%02X' "'$char"; out+=$char ;;
        esac
    done
    printf '%s' "$out"
}

export_secret LINEWATCH_WEB_SECRET_KEY WEB_SECRET_KEY_FILE LINEWATCH_WEB__SECRET_KEY || exit 1
export_secret LINEWATCH_WEB_CREDENTIALS_KEY WEB_CREDENTIALS_KEY_FILE LINEWATCH_WEB__CREDENTIALS_KEY || exit 1
export_secret LINEWATCH_INVENTORY_TOKEN INVENTORY_TOKEN_FILE LINEWATCH_WEB__INVENTORY_TOKEN || exit 1
export_secret POSTGRES_PASSWORD POSTGRES_PASSWORD_FILE db_password || exit 1
export -n db_password
LINEWATCH_WEB__DATABASE_URL="postgresql://$(urlencode "${POSTGRES_USER:-linewatch}"):$(urlencode "$db_password")"
LINEWATCH_WEB__DATABASE_URL+="@${POSTGRES_HOST:-postgres}:${POSTGRES_PORT:-5432}/$(urlencode "${POSTGRES_DB:-linewatch}")"
export LINEWATCH_WEB__DATABASE_URL
unset db_password

# has_lines: status 0 when the database holds a line, 3 when it holds none (anything else: an error).
has_lines() {
    linewatch web manage shell -c \
        "import sys; from web.inventory.models import Line; sys.exit(0 if Line.objects.exists() else 3)"
}

case "${1:-}" in
    gunicorn)
        linewatch web migrate
        linewatch web manage collectstatic --noinput --verbosity 0
        if [[ -n ${WEB_INITIAL_IMPORT_DIR:-} ]]; then
            status=0
            has_lines || status=$?
            if ((status == 3)); then
                echo "linewatch: first start: importing the inventory of $WEB_INITIAL_IMPORT_DIR" >&2
                linewatch inventory import "$WEB_INITIAL_IMPORT_DIR" --user import
            elif ((status != 0)); then
                exit "$status"
            fi
        fi
        exec "$@"
        ;;
    inventory) exec linewatch "$@" ;;
    *) exec linewatch web "$@" ;;
esac
