#!/usr/bin/env bash
# Run the production profile for real on this machine, without Docker, then tear it all down:
#   Chroma server (`chroma run`) · a fresh PostgreSQL database · Redis · `citewise migrate`
#   · two API processes on two ports · one ARQ worker.
# Then: register through API #1, upload through API #1, poll to `ready` through API #2, ask a
# question through API #2 (JSON mode) and print the answer. Exits non-zero if any step fails.
#
# Needs: backend/.venv (make install), PostgreSQL on PG_HOST:PG_PORT (user postgres, trust) and Redis.
# Overrides: PG_HOST, PG_PORT, PG_USER, REDIS_URL (default redis://127.0.0.1:6379/13, a database
# this script may clear of Citewise/ARQ keys), SMOKE_TIMEOUT (seconds per wait, default 300),
# KEEP=1 to keep the work directory for inspection.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="$REPO/backend/.venv/bin"
PY="$BIN/python"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_PORT="${PG_PORT:-5432}"
PG_USER="${PG_USER:-postgres}"
DB="citewise_smoke_$$"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/citewise-smoke.XXXXXX")"
PIDS=()
T0=$(date +%s)
# Start-up imports take ~10 s on an idle 2-core machine and much longer on a loaded one.
WAIT="${SMOKE_TIMEOUT:-300}"

say() { printf '[smoke %3ss] %s\n' "$(($(date +%s) - T0))" "$*"; }
die() { say "FAILED: $*"; exit 1; }
# wait_for SECONDS CMD...: retry CMD every half second until it succeeds or time runs out.
wait_for() {
  local deadline=$(($(date +%s) + $1)); shift
  until "$@" >/dev/null 2>&1; do
    (($(date +%s) < deadline)) || return 1
    sleep 0.5
  done
}
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# json FIELD...: read JSON on stdin, print the value at that path (e.g. `json documents 0 id`).
json() { "$PY" -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1:]:
    v = v[int(k)] if isinstance(v, list) else v[k]
print(v if isinstance(v, str) else json.dumps(v))' "$@"; }
psql_admin() { psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -v ON_ERROR_STOP=1 "$@"; }
clear_redis() {
  "$PY" - "$REDIS_URL" <<'EOF'
import sys
from redis import Redis
r = Redis.from_url(sys.argv[1])
keys = [k for pattern in ("citewise:*", "arq:*", "rate:*") for k in r.scan_iter(match=pattern, count=500)]
if keys:
    r.delete(*keys)
EOF
}

cleanup() {
  local rc=$?
  say "tearing down"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  if [[ $rc -ne 0 ]]; then
    for log in "$WORK"/*.log; do
      [[ -f "$log" ]] || continue
      echo "----- last lines of $(basename "$log") -----"
      tail -n 25 "$log"
    done
  fi
  psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  clear_redis 2>/dev/null || true
  if [[ "${KEEP:-0}" == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi
  if [[ $rc -eq 0 ]]; then say "PASSED"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ -x "$BIN/citewise" && -x "$BIN/chroma" ]] || die "backend/.venv is not installed (run: make install)"
pg_isready -q -h "$PG_HOST" -p "$PG_PORT" || die "PostgreSQL is not reachable on $PG_HOST:$PG_PORT"

CHROMA_PORT=$(free_port); API1_PORT=$(free_port); API2_PORT=$(free_port)
[[ "$API1_PORT" != "$API2_PORT" && "$CHROMA_PORT" != "$API1_PORT" && "$CHROMA_PORT" != "$API2_PORT" ]] \
  || die "could not find three distinct free ports"

# The production environment, exactly as an operator would set it (see docs/configuration.md).
export CITEWISE_MODE=production
export DATABASE_URL="postgresql+asyncpg://$PG_USER@$PG_HOST:$PG_PORT/$DB"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/13}"
export CHROMA_URL="http://127.0.0.1:$CHROMA_PORT"
CITEWISE_SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(48))')"
export CITEWISE_SECRET_KEY
export CITEWISE_COOKIE_SECURE=false   # plain http on localhost
export CITEWISE_DATA_DIR="$WORK/data"  # shared by both API processes and the worker
export CITEWISE_SERVE_FRONTEND=false   # Nginx serves the SPA in production
export CITEWISE_LOG_JSON=true
export CITEWISE_LOG_LEVEL=INFO
export CITEWISE_JOB_CONCURRENCY=1
mkdir -p "$CITEWISE_DATA_DIR"

say "work dir $WORK; database $DB; redis $REDIS_URL"
clear_redis

say "starting Chroma server on :$CHROMA_PORT"
"$BIN/chroma" run --path "$WORK/chroma" --host 127.0.0.1 --port "$CHROMA_PORT" >"$WORK/chroma.log" 2>&1 &
PIDS+=($!)

say "creating database $DB"
psql_admin -c "CREATE DATABASE $DB"

say "citewise migrate"
(cd "$REPO/backend" && "$BIN/citewise" migrate) >"$WORK/migrate.log" 2>&1 || die "migrate failed"

wait_for "$WAIT" curl -fsS "$CHROMA_URL/api/v2/heartbeat" || die "Chroma did not start"

say "starting API #1 on :$API1_PORT, API #2 on :$API2_PORT and one ARQ worker"
(cd "$REPO/backend" && exec "$BIN/citewise" serve --host 127.0.0.1 --port "$API1_PORT") >"$WORK/api1.log" 2>&1 &
PIDS+=($!)
(cd "$REPO/backend" && exec "$BIN/citewise" serve --host 127.0.0.1 --port "$API2_PORT") >"$WORK/api2.log" 2>&1 &
PIDS+=($!)
(cd "$REPO/backend" && exec "$BIN/citewise" worker) >"$WORK/worker.log" 2>&1 &
PIDS+=($!)

API1="http://127.0.0.1:$API1_PORT/api/v1"
API2="http://127.0.0.1:$API2_PORT/api/v1"
for api in "$API1" "$API2"; do
  wait_for "$WAIT" curl -fsS "$api/ready" || die "$api/ready never became ready: $(curl -sS "$api/ready" || true)"
done
say "both APIs ready: $(curl -fsS "$API2/ready")"

# One cookie jar for both APIs: a session opened on #1 must be valid on #2 (shared secret + database).
JAR="$WORK/cookies.txt"
EMAIL="smoke-$$@example.com"
say "registering $EMAIL through API #1"
curl -fsS -c "$JAR" -b "$JAR" -H 'Content-Type: application/json' \
  -d "{\"email\":\"$EMAIL\",\"password\":\"smoke-password-$$\",\"display_name\":\"Smoke\"}" \
  "$API1/auth/register" | json role >"$WORK/role"
csrf() { awk '$6 == "cw_csrf" { print $7 }' "$JAR" | tail -n 1; }
[[ -n "$(csrf)" ]] || die "no CSRF cookie after registration"
say "registered (role $(cat "$WORK/role"))"

DOC="$WORK/zephyr-pump-manual.md"
cat >"$DOC" <<'EOF'
# Zephyr-9 circulation pump: operating manual

## Installation
Mount the Zephyr-9 pump upright on a vibration-free wall bracket. Connect the inlet to the
return line and the outlet to the supply manifold. Use the supplied copper gaskets only.

## Operating limits
The Zephyr-9 pump runs at a maximum operating temperature of 85 degrees Celsius. Above that
temperature the thermal cut-out stops the motor until it has cooled for ten minutes.
The maximum working pressure is 6 bar and the rated flow is 42 litres per minute.

## Maintenance
Replace the impeller seal every 4,000 operating hours. Flush the strainer twice a year.
EOF

say "uploading $(basename "$DOC") through API #1"
UPLOAD=$(curl -fsS -b "$JAR" -c "$JAR" -H "X-CSRF-Token: $(csrf)" -H 'Accept: application/json' \
  -F "files=@$DOC;type=text/markdown" "$API1/documents")
DOC_ID=$(echo "$UPLOAD" | json documents 0 id)
say "document $DOC_ID: $(echo "$UPLOAD" | json documents 0 status)"

say "polling the document through API #2"
STATUS=""
DEADLINE=$(($(date +%s) + WAIT))
while (($(date +%s) < DEADLINE)); do
  INFO=$(curl -fsS -b "$JAR" "$API2/documents/$DOC_ID")
  STATUS=$(echo "$INFO" | json status)
  [[ "$STATUS" == ready || "$STATUS" == failed ]] && break
  sleep 0.5
done
[[ "$STATUS" == ready ]] || die "document ended as '$STATUS': $(echo "$INFO" | json error)"
say "ready: $(echo "$INFO" | json chunk_count) chunk(s), $(echo "$INFO" | json page_count) page(s)"

say "asking a question through API #2 (JSON mode)"
CONV=$(curl -fsS -b "$JAR" -c "$JAR" -H "X-CSRF-Token: $(csrf)" -H 'Content-Type: application/json' \
  -d '{"title":"smoke"}' "$API2/conversations" | json id)
QUESTION="What is the maximum operating temperature of the Zephyr-9 pump?"
ANSWER=$(curl -fsS -b "$JAR" -c "$JAR" -H "X-CSRF-Token: $(csrf)" -H 'Content-Type: application/json' \
  -H 'Accept: application/json' -d "{\"content\":\"$QUESTION\"}" "$API2/conversations/$CONV/messages")
CONTENT=$(echo "$ANSWER" | json content)
echo "  Q: $QUESTION"
echo "  A: $CONTENT"
echo "  citations: $(echo "$ANSWER" | "$PY" -c '
import json, sys
m = json.load(sys.stdin)
print(", ".join("[%s] %s p.%s" % (c["index"], c["filename"], c["page"]) for c in m["citations"]) or "none")')"
[[ "$(echo "$ANSWER" | json status)" == complete ]] || die "answer status is not complete"
[[ "$CONTENT" == *85* ]] || die "the answer does not state the 85 degree limit"
[[ "$(echo "$ANSWER" | json citations 0 document_id)" == "$DOC_ID" ]] || die "the answer does not cite the document"

WORKER_JOBS=$(grep -c '"ingestion finished"' "$WORK/worker.log" || true)
say "worker log: $WORKER_JOBS ingestion(s) finished in the ARQ worker"
[[ "$WORKER_JOBS" -ge 1 ]] || die "the ARQ worker did not process the document"

# ---- Optional: the same stack behind deploy/nginx/citewise.conf (skipped without nginx) ----------
if [[ "${SMOKE_NGINX:-1}" == 1 ]] && command -v nginx >/dev/null && command -v openssl >/dev/null; then
  NGX="$WORK/nginx"; mkdir -p "$NGX"
  HTTP_PORT=$(free_port); HTTPS_PORT=$(free_port)
  openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -days 1 \
    -keyout "$NGX/key.pem" -out "$NGX/cert.pem" 2>/dev/null
  # The shipped site file, with this run's ports, certificate, SPA folder and the two APIs.
  sed -e "s#listen 80;#listen 127.0.0.1:$HTTP_PORT;#; s#listen 443 ssl http2;#listen 127.0.0.1:$HTTPS_PORT ssl http2;#" \
      -e '/listen \[::\]/d' \
      -e "s#/etc/letsencrypt/live/citewise.example.com/fullchain.pem#$NGX/cert.pem#" \
      -e "s#/etc/letsencrypt/live/citewise.example.com/privkey.pem#$NGX/key.pem#" \
      -e "s#root /srv/citewise/frontend/dist;#root $REPO/frontend/dist;#" \
      -e "s#server 127.0.0.1:8000 max_fails#server 127.0.0.1:$API1_PORT max_fails#" \
      -e "s#\# server 127.0.0.1:8002 max_fails#server 127.0.0.1:$API2_PORT max_fails#" \
      "$REPO/deploy/nginx/citewise.conf" >"$NGX/site.conf"
  cat >"$NGX/nginx.conf" <<NGINX
user $(id -un);
pid $NGX/nginx.pid;
error_log $NGX/error.log;
daemon off;
events {}
http {
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log $NGX/access.log;
    client_body_temp_path $NGX/body; proxy_temp_path $NGX/proxy; fastcgi_temp_path $NGX/fcgi;
    uwsgi_temp_path $NGX/uwsgi; scgi_temp_path $NGX/scgi;
    include $NGX/site.conf;
}
NGINX
  nginx -t -q -c "$NGX/nginx.conf" -p "$NGX" 2>"$NGX/test.log" || die "nginx -t: $(cat "$NGX/test.log")"
  nginx -c "$NGX/nginx.conf" -p "$NGX" >"$WORK/nginx.log" 2>&1 &
  PIDS+=($!)
  FRONT="https://127.0.0.1:$HTTPS_PORT"
  wait_for 30 curl -kfsS "$FRONT/api/v1/health" || die "nginx did not start"
  say "nginx on :$HTTPS_PORT (TLS) in front of both APIs"

  HEADERS=$(curl -kfsS -D - -o /dev/null "$FRONT/api/v1/health")
  grep -qi "^content-security-policy: .*frame-ancestors 'none'" <<<"$HEADERS" || die "no CSP header"
  grep -qi '^x-content-type-options: nosniff' <<<"$HEADERS" || die "no nosniff header"
  [[ "$(curl -ksS -o /dev/null -w '%{http_code}' "$FRONT/api/v1/metrics")" == 200 ]] \
    || die "metrics should be readable from 127.0.0.1"
  if [[ -f "$REPO/frontend/dist/index.html" ]]; then
    curl -kfsS "$FRONT/documents/some/client/route" | grep -q '<div id="root"' \
      || die "SPA fallback to index.html failed"
    say "SPA served with client-side route fallback"
  fi

  # The browser path: cookies, CSRF header and a same-origin Origin through the proxy, then SSE.
  SSE=$(curl -kfsSN -b "$JAR" -c "$JAR" -H "X-CSRF-Token: $(csrf)" -H "Origin: $FRONT" \
    -H 'Content-Type: application/json' -H 'Accept: text/event-stream' \
    -d '{"content":"What is the maximum working pressure of the Zephyr-9 pump?"}' \
    "$FRONT/api/v1/conversations/$CONV/messages")
  EVENTS=$(grep '^event:' <<<"$SSE" | awk '{print $2}' | uniq | tr '\n' ' ')
  say "SSE through nginx, events: $EVENTS"
  [[ "$EVENTS" == "sources token citations done " ]] || die "unexpected SSE events: $SSE"
  grep -q '6 bar' <<<"$SSE" || die "the streamed answer does not state 6 bar"
  [[ "$(curl -ksS -o /dev/null -w '%{http_code}' -b "$JAR" -c "$JAR" -H "X-CSRF-Token: $(csrf)" \
    -H "Origin: $FRONT" -H 'Content-Type: application/json' -d '{"title":"via nginx"}' \
    "$FRONT/api/v1/conversations")" == 201 ]] || die "creating a conversation through nginx failed"
  CROSS=$(curl -ksS -o /dev/null -w '%{http_code}' -b "$JAR" -H "X-CSRF-Token: $(csrf)" \
    -H 'Origin: https://evil.example' -H 'Content-Type: application/json' -d '{"title":"x"}' \
    "$FRONT/api/v1/conversations")
  [[ "$CROSS" == 403 ]] || die "a cross-origin POST got $CROSS instead of 403"
  say "cross-origin POST refused (403)"
fi
