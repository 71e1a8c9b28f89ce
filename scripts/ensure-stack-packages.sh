#!/usr/bin/env bash
# The Debian packages `make stack` (and its test) run from: Nginx, Redis and the PostgreSQL server.
# Installs with apt only what is missing, the way scripts/e2e.sh installs Chromium.
set -euo pipefail

missing=()
command -v nginx >/dev/null || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
command -v redis-server >/dev/null || missing+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "ensure-stack-packages: installing ${missing[*]} with apt"
SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)
"${SUDO[@]}" apt-get update -qq
# policy: Debian starts a freshly installed nginx/redis/postgresql service where systemd runs;
# the stack starts its own copies on its own ports and never uses those.
"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
