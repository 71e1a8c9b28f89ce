#!/usr/bin/env bash
# End-to-end tests: a real backend (embedded profile, fresh data dir) serving the built SPA,
# driven by Playwright in Debian's Chromium (never a downloaded browser). Arguments go to
# `playwright test` (e.g. a spec file).
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ ! -x /usr/bin/chromium ]]; then
  echo "e2e: installing Debian's chromium"
  if [[ $(id -u) -eq 0 ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

PORT="${E2E_PORT:-8765}"
DATA="$(mktemp -d)"
LOG="$DATA/server.log"
# The documents the specs upload, generated for this run: nothing outside the repository is read.
E2E_DOCS="$(mktemp -d)"
export E2E_DOCS
cleanup() {
  [[ -n "${SERVER_PID:-}" ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  [[ -n "${OIDC_PID:-}" ]] && kill "$OIDC_PID" 2>/dev/null && wait "$OIDC_PID" 2>/dev/null || true
  rm -rf "$DATA" "$E2E_DOCS"
}
trap cleanup EXIT

(cd backend && .venv/bin/python -m tests.docgen e2e "$E2E_DOCS" >/dev/null)

# An administrator for the admin specs (the first *registered* account would otherwise be admin).
export E2E_ADMIN_EMAIL="admin-e2e@example.com"
export E2E_ADMIN_PASSWORD="$(head -c 18 /dev/urandom | base64)"
CITEWISE_DATA_DIR="$DATA" CITEWISE_LOG_JSON=false backend/.venv/bin/citewise create-admin \
  --email "$E2E_ADMIN_EMAIL" --password "$E2E_ADMIN_PASSWORD" >/dev/null

# A real OpenID provider (npm oidc-provider, installed by `make test-e2e`) on loopback for the
# single sign-on spec: its accounts, with a password made for this run, are the spec's only users.
OIDC_PORT="${E2E_OIDC_PORT:-$((PORT + 1))}"
OIDC_SECRET="$(head -c 24 /dev/urandom | base64 | tr -d '/+=')"
export E2E_OIDC_PASSWORD="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')"
export E2E_SSO_LABEL="Sign in with Test IdP"
if [[ ! -d backend/tests/oidc/node_modules/oidc-provider ]]; then
  echo "e2e: the test OpenID provider is not installed: run make test-e2e (npm ci in backend/tests/oidc)" >&2
  exit 1
fi
cat >"$DATA/oidc.json" <<JSON
{"port": $OIDC_PORT,
 "clients": [{"client_id": "citewise-e2e", "client_secret": "$OIDC_SECRET",
              "redirect_uris": ["http://127.0.0.1:$PORT/api/v1/auth/oidc/callback"],
              "grant_types": ["authorization_code"], "response_types": ["code"]}],
 "accounts": {
   "sso-alice": {"password": "$E2E_OIDC_PASSWORD", "claims": {"email": "sso-alice@example.com",
                 "email_verified": true, "name": "Alice SSO", "groups": ["eng", "everyone"]}},
   "sso-carol": {"password": "$E2E_OIDC_PASSWORD", "claims": {"email": "sso-carol@example.com",
                 "email_verified": false, "name": "Carol Unverified", "groups": []}}}}
JSON
node backend/tests/oidc/provider.mjs "$DATA/oidc.json" >"$DATA/oidc.log" 2>&1 &
OIDC_PID=$!
for _ in $(seq 1 60); do
  curl -sf "http://127.0.0.1:$OIDC_PORT/.well-known/openid-configuration" >/dev/null && break
  kill -0 "$OIDC_PID" 2>/dev/null || { cat "$DATA/oidc.log"; exit 1; }
  sleep 0.5
done

# Plain http on loopback: Secure cookies would not be sent back by the browser. Every spec registers
# its own accounts from 127.0.0.1, more than the per-address registration limit allows real clients.
CITEWISE_DATA_DIR="$DATA" CITEWISE_COOKIE_SECURE=false CITEWISE_LOG_JSON=false \
  CITEWISE_REGISTRATION_RATE_LIMIT_PER_HOUR=1000 \
  CITEWISE_OIDC_ISSUER="http://127.0.0.1:$OIDC_PORT" CITEWISE_OIDC_CLIENT_ID=citewise-e2e \
  CITEWISE_OIDC_CLIENT_SECRET="$OIDC_SECRET" CITEWISE_OIDC_SCOPES="openid email profile groups" \
  CITEWISE_OIDC_TIMEOUT_SECONDS=30 CITEWISE_OIDC_PROVIDER_NAME="Test IdP" CITEWISE_OIDC_GROUP_MAP='{"eng": "Engineering"}' \
  CITEWISE_OIDC_REDIRECT_URI="http://127.0.0.1:$PORT/api/v1/auth/oidc/callback" \
  backend/.venv/bin/citewise serve --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 1
done
curl -sf "http://127.0.0.1:$PORT/api/v1/health" >/dev/null || { echo "e2e: backend did not start"; cat "$LOG"; exit 1; }

if [[ -z "${CITEWISE_EVAL_DOCS:-}" ]]; then
  echo "e2e: real-document spec skipped: set CITEWISE_EVAL_DOCS=<path to shared/eval/docs> to run the real-document suites"
elif [[ ! -f "$CITEWISE_EVAL_DOCS/MANIFEST.tsv" ]]; then
  echo "e2e: CITEWISE_EVAL_DOCS=$CITEWISE_EVAL_DOCS is not the evaluation corpus (no MANIFEST.tsv there)" >&2
  exit 1
fi

cd frontend
# Playwright's report is kept so that, on failure, what failed and why is printed again *after* the
# server log: a CI log cut to its last lines then still names the failing spec.
REPORT="$DATA/playwright.log"
if E2E_BASE_URL="http://127.0.0.1:$PORT" npx playwright test "$@" 2>&1 | tee "$REPORT"; then
  exit 0
fi
echo "e2e: failed; server log follows"; tail -n 200 "$LOG"
echo "e2e: what failed (Playwright's report, repeated):"
grep -E '^\s+([0-9]+\) |Error:|Expected|Received|Call log|[0-9]+ (failed|flaky|passed|skipped))|^\s+\[chromium\]' "$REPORT" | tail -n 40 || true
exit 1
