#!/bin/bash
# Entry point of the postgres service: refuses the change-me placeholder of .env.example for the database password
# (the compose secret the image's first-start set-up reads through POSTGRES_PASSWORD_FILE), then runs the image's
# own entry point (docker-entrypoint.sh) with the command (postgres).
set -euo pipefail

# shellcheck source=SCRIPTDIR/../common/secrets.sh
source "${LINEWATCH_SECRETS_LIB:-/opt/linewatch/secrets.sh}"

if [[ -z ${POSTGRES_PASSWORD_FILE:-} ]]; then
    echo "linewatch: refusing to start: POSTGRES_PASSWORD_FILE is not set (the file of the POSTGRES_PASSWORD secret)" >&2
    exit 1
fi
lw_read_secret POSTGRES_PASSWORD "$POSTGRES_PASSWORD_FILE" >/dev/null || exit 1

exec "${POSTGRES_IMAGE_ENTRYPOINT:-docker-entrypoint.sh}" "$@"
