#!/usr/bin/env bash
# The GitOps loop of this example, end to end on one machine, with nothing faked:
#
#   edit schema.sql → strata migrate diff → strata migrate lint (a destructive change fails, a safe one passes)
#   → commit → strata migrate push app:<commit sha> to a real `strata registry serve`
#   → an AtlasMigration with dir.remote.tag: <commit sha> → the operator's reconcile applies it to PostgreSQL
#   → the registry's API and web page show the deployment at that version.
#
# Needs: git, curl, psql, and a PostgreSQL server where PG_ADMIN_URL may create and drop databases.
#   STRATA           the strata CLI (default: strata on PATH)
#   STRATA_OPERATOR  the operator command (default: strata-operator; "strata operator" works the same)
#   PG_ADMIN_URL     default postgres://postgres@127.0.0.1:5432/postgres
#   KEEP=1           keep the work directory (its path is printed)
#   PAGES_DIR        also keep the registry pages the script checks there (NAME.html and ui.css), e.g. to look at
#                    them in a browser: they are what the registry served
# Exit status 0 only when every check passed.
set -euo pipefail

STRATA=${STRATA:-strata}
read -r -a OPERATOR <<<"${STRATA_OPERATOR:-strata-operator}"
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PROJECT=app

step() { printf '\n==> %s\n' "$*"; }
fail() {
  printf 'FAILED: %s\n' "$*" >&2
  exit 1
}
with_query() { # URL PARAMS: appends query parameters to a URL that may already have some
  case "$1" in *\?*) printf '%s&%s' "$1" "$2" ;; *) printf '%s?%s' "$1" "$2" ;; esac
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-loop.XXXXXX")
DB="strata_loop_$$_${RANDOM}"
REGISTRY_PID=""
DB_CREATED=""
SCHEMA_DB_CREATED=""
cleanup() {
  local status=$?
  if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null || true; wait "$REGISTRY_PID" 2>/dev/null || true; fi
  if [ -n "$DB_CREATED" ]; then psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ -n "$SCHEMA_DB_CREATED" ]; then psql -q "$PG_ADMIN_URL" -c "DROP DATABASE IF EXISTS \"${DB}_schema\" WITH (FORCE)" >/dev/null 2>&1 || true; fi
  if [ "$status" -ne 0 ] && [ -s "$WORK/registry.log" ]; then
    echo "--- last lines of the registry's log:" >&2
    tail -n 20 "$WORK/registry.log" >&2
  fi
  if [ "${KEEP:-}" = 1 ]; then echo "work directory kept: $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
has() { # TEXT NEEDLE: whether TEXT holds NEEDLE. A here-string, not `printf | grep -q`: grep -q exits at the
  # first match, and under pipefail the writer's broken pipe would fail the check on a large page.
  grep -qF -- "$2" <<<"$1"
}

# Every run of diff, lint and validate works in a throw-away database on the server; the replay cache stays here.
DEV_URL=$(with_query "$PG_ADMIN_URL" "search_path=public&strata_dev=scratch")
export STRATA_CACHE_DIR="$WORK/cache"
unset STRATA_DIR STRATA_URL STRATA_REGISTRY STRATA_TOKEN STRATA_DEV_URL STRATA_REGISTRY_URL

REPO="$WORK/repo"
mkdir -p "$REPO"
cd "$REPO"
git init -q -b main
git config user.name "Loop Test"
git config user.email "loop@example.invalid"

step "1. the first desired schema, and its migration from strata migrate diff"
cat >schema.sql <<'SQL'
CREATE TABLE users (
  id bigint PRIMARY KEY,
  email text NOT NULL,
  nickname text
);
SQL
"$STRATA" migrate diff create_users --dir file://migrations --to file://schema.sql --dev-url "$DEV_URL"
ls migrations/*_create_users.sql >/dev/null || fail "migrate diff wrote no create_users file"
"$STRATA" migrate validate --dir file://migrations --dev-url "$DEV_URL"
git add -A && git commit -qm "users" && echo "committed $(git rev-parse --short HEAD)"

step "2. a destructive edit (drop users.nickname): lint must fail"
git checkout -q -b drop-nickname
sed -i.bak -e '/nickname/d' -e 's/email text NOT NULL,/email text NOT NULL/' schema.sql && rm schema.sql.bak
sleep 1 # migration versions are UTC seconds
"$STRATA" migrate diff drop_nickname --dir file://migrations --to file://schema.sql --dev-url "$DEV_URL"
git add -A && git commit -qm "drop nickname"
if "$STRATA" migrate lint --dir file://migrations --dev-url "$DEV_URL" --git-base main >"$WORK/lint-destructive.txt"; then
  cat "$WORK/lint-destructive.txt"
  fail "lint passed a destructive change"
fi
grep -q 'DS103' "$WORK/lint-destructive.txt" || { cat "$WORK/lint-destructive.txt"; fail "lint failed without naming the dropped column (DS103)"; }
echo "lint refused it, as it should:"
grep 'Dropping' "$WORK/lint-destructive.txt"
git checkout -q main

step "3. a safe edit (a new table posts): lint passes; merged into main"
git checkout -q -b add-posts
cat >>schema.sql <<'SQL'
CREATE TABLE posts (
  id bigint PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  title text NOT NULL
);
SQL
sleep 1
"$STRATA" migrate diff add_posts --dir file://migrations --to file://schema.sql --dev-url "$DEV_URL"
git add -A && git commit -qm "posts"
"$STRATA" migrate lint --dir file://migrations --dev-url "$DEV_URL" --git-base main || fail "lint refused a safe change"
git checkout -q main && git merge -q --ff-only add-posts
SHA=$(git rev-parse HEAD)
LAST_VERSION=$(ls migrations | grep -E '^[0-9]+_.*\.sql$' | sort | tail -n 1 | cut -d_ -f1)
echo "main is at $SHA; newest migration version $LAST_VERSION"

step "4. a registry (strata registry serve, SQLite store) and its tokens"
REGISTRY_DB="sqlite://$WORK/registry.db"
PORT=${REGISTRY_PORT:-$((20000 + RANDOM % 20000))}
REGISTRY="http://127.0.0.1:$PORT"
"$STRATA" registry serve --addr "127.0.0.1:$PORT" --db "$REGISTRY_DB" --log-format json >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 1 100); do
  curl -fsS "$REGISTRY/healthz" >/dev/null 2>&1 && break
  kill -0 "$REGISTRY_PID" 2>/dev/null || fail "the registry exited (log above)"
  sleep 0.1
done
curl -fsS "$REGISTRY/healthz" >/dev/null || fail "the registry did not come up on $REGISTRY"
token() { "$STRATA" registry token create --db "$REGISTRY_DB" --project "$PROJECT" --scope "$1" | tail -n 1; }
CI_TOKEN=$(token push)              # what CI holds (push.yml: secrets.STRATA_TOKEN)
OPERATOR_TOKEN=$(token read,report) # what the operator's Secret holds
READ_TOKEN=$(token read)            # for the checks below
echo "registry at $REGISTRY"

step "5. on merge: strata migrate push $PROJECT:<sha> with its lint report and schema (what push.yml runs)"
"$STRATA" migrate lint --dir file://migrations --dev-url "$DEV_URL" --git-base HEAD~1 --format json >"$WORK/lint.json" ||
  fail "lint refused what main holds"
STRATA_TOKEN="$CI_TOKEN" "$STRATA" migrate push "$PROJECT:$SHA" --dir file://migrations --registry "$REGISTRY" \
  --lint-report "$WORK/lint.json" --dev-url "$DEV_URL"

step "6. the manifest points at the commit (what bump-tag.yml writes), with its Secrets"
psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE \"$DB\"" >/dev/null
DB_CREATED=1
TARGET_URL=$(printf '%s' "$PG_ADMIN_URL" | sed -E "s#/[^/?]*(\\?|\$)#/$DB\\1#")
case "$TARGET_URL" in *sslmode=*) ;; *) TARGET_URL=$(with_query "$TARGET_URL" "sslmode=disable") ;; esac
mkdir -p "$WORK/deploy"
cat >"$WORK/deploy/secrets.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: postgres-credentials
stringData:
  url: "$TARGET_URL"
---
apiVersion: v1
kind: Secret
metadata:
  name: registry-credentials
stringData:
  token: "$OPERATOR_TOKEN"
YAML
cat >"$WORK/deploy/migration.yaml" <<YAML
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasMigration
metadata:
  name: $PROJECT
  namespace: $PROJECT
spec:
  urlFrom:
    secretKeyRef: {name: postgres-credentials, key: url}
  cloud:
    url: "$REGISTRY"
    project: $PROJECT
    tokenFrom:
      secretKeyRef: {name: registry-credentials, key: token}
  dir:
    remote:
      name: $PROJECT
      tag: "$SHA"
YAML

step "7. the operator's reconcile applies that tag to PostgreSQL"
"${OPERATOR[@]}" reconcile -n "$PROJECT" -f "$WORK/deploy/migration.yaml" -f "$WORK/deploy/secrets.yaml" -o json \
  >"$WORK/status.json" || { cat "$WORK/status.json"; fail "the AtlasMigration is not Ready"; }
cat "$WORK/status.json"
grep -q "\"lastAppliedVersion\": \"$LAST_VERSION\"" "$WORK/status.json" ||
  fail "status.lastAppliedVersion is not $LAST_VERSION"
TABLES=$(psql -qtA "$(printf '%s' "$PG_ADMIN_URL" | sed -E "s#/[^/?]*(\\?|\$)#/$DB\\1#")" \
  -c "SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.tables WHERE table_schema = 'public'")
[ "$TABLES" = "atlas_schema_revisions,posts,users" ] || [ "$TABLES" = "posts,users" ] ||
  fail "the target has tables $TABLES, not posts and users"
echo "target tables: $TABLES"

step "8. the registry shows the deployment at that version (API and web page)"
VERSION_ID=$(curl -fsS -H "Authorization: Bearer $READ_TOKEN" "$REGISTRY/api/projects/$PROJECT/dirs/$PROJECT/tags/$SHA" |
  grep -oE '"(id|version)": ?"[0-9a-f]{64}"' | head -n 1 | grep -oE '[0-9a-f]{64}') || fail "tag $SHA is not in the registry"
DEPLOYMENTS=$(curl -fsS -H "Authorization: Bearer $READ_TOKEN" "$REGISTRY/api/projects/$PROJECT/deployments")
printf '%s\n' "$DEPLOYMENTS"
for want in "\"version\":\"$VERSION_ID\"" "\"tag\":\"$SHA\"" "\"status\":\"succeeded\"" "\"to_version\":\"$LAST_VERSION\""; do
  has "$(printf '%s' "$DEPLOYMENTS" | tr -d ' \n')" "$want" || fail "the deployments API lacks $want"
done
PAGE=$(curl -fsS -H "Authorization: Bearer $READ_TOKEN" "$REGISTRY/projects/$PROJECT/deployments")
for want in "$SHA" "${VERSION_ID:0:12}" "$LAST_VERSION" "succeeded"; do
  has "$PAGE" "$want" || fail "the deployments page lacks $want"
done
for secret in "$OPERATOR_TOKEN" "$CI_TOKEN"; do
  grep -qF "$secret" "$WORK/status.json" && fail "a token appears in the status"
  has "$DEPLOYMENTS$PAGE" "$secret" && fail "a token appears in the registry's answers"
done
echo "the registry shows $PROJECT at ${VERSION_ID:0:12} (tag $SHA) on the target, succeeded"

step "9. the registry's pages: what runs where, the version with its lint report, its schema, the deployment"
page() { # PATH NAME: fetches a page (with the read token, as a reverse proxy would add it), keeps it in PAGES_DIR
  local html
  html=$(curl -fsS -H "Authorization: Bearer $READ_TOKEN" "$REGISTRY$1") || fail "page $1 did not load"
  if [ -n "${PAGES_DIR:-}" ]; then
    mkdir -p "$PAGES_DIR" && printf '%s' "$html" >"$PAGES_DIR/$2.html"
    [ -e "$PAGES_DIR/ui.css" ] || curl -fsS "$REGISTRY/ui.css" >"$PAGES_DIR/ui.css" || fail "the stylesheet did not load"
  fi
  printf '%s' "$html"
}
VERSION_PAGE="/projects/$PROJECT/dirs/$PROJECT/versions/$VERSION_ID"
OVERVIEW=$(page /overview overview)
for want in "$PROJECT" "${VERSION_ID:0:12}" "$SHA" "$LAST_VERSION"; do
  has "$OVERVIEW" "$want" || fail "what-runs-where lacks $want"
done
VERSION_HTML=$(page "$VERSION_PAGE" version)
has "$VERSION_HTML" 'id="lint-report"' || fail "the version page shows no lint report"
has "$VERSION_HTML" "${LAST_VERSION}_add_posts.sql" || fail "the version page lacks the new file"
SCHEMA_HTML=$(page "$VERSION_PAGE/schema" schema)
for table in users posts; do
  has "$SCHEMA_HTML" "<g class=\"er-table\" data-table=\"$table\"" ||
    fail "the ER diagram lacks table $table"
done
has "$SCHEMA_HTML" 'data-to="users"' || fail "the ER diagram lacks the posts → users foreign key"
DEPLOYMENT_ID=$(printf '%s' "$DEPLOYMENTS" | grep -oE '"id": ?[0-9]+' | head -n 1 | grep -oE '[0-9]+') ||
  fail "the deployment has no id"
has "$(page "/projects/$PROJECT/deployments/$DEPLOYMENT_ID" deployment)" "${LAST_VERSION}_add_posts.sql" ||
  fail "the deployment page lacks the applied file"
echo "overview, version, schema (ER diagram: users, posts and their foreign key) and deployment pages checked"

step "10. AtlasSchema: the same schema.sql, declared instead of migrated, on a database of its own"
SCHEMA_DB="${DB}_schema"
psql -q "$PG_ADMIN_URL" -c "CREATE DATABASE \"$SCHEMA_DB\"" >/dev/null
SCHEMA_DB_CREATED=1
SCHEMA_URL=$(printf '%s' "$TARGET_URL" | sed -E "s#/$DB(\\?|\$)#/$SCHEMA_DB\\1#")
schema_manifest() { # writes the AtlasSchema with the repository's schema.sql inline
  {
    cat <<YAML
apiVersion: db.atlasgo.io/v1alpha1
kind: AtlasSchema
metadata:
  name: $PROJECT-schema
  namespace: $PROJECT
spec:
  urlFrom:
    secretKeyRef: {name: schema-db, key: url}
  schema:
    sql: |
YAML
    sed 's/^/      /' schema.sql
  } >"$WORK/deploy/atlasschema.yaml"
  cat >"$WORK/deploy/schema-secret.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: schema-db
stringData:
  url: "$SCHEMA_URL"
YAML
}
schema_tables() {
  psql -qtA "$(printf '%s' "$PG_ADMIN_URL" | sed -E "s#/[^/?]*(\\?|\$)#/$SCHEMA_DB\\1#")" -c \
    "SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, column_name) FROM information_schema.columns WHERE table_schema = 'public'"
}
schema_manifest
"${OPERATOR[@]}" reconcile -n "$PROJECT" -f "$WORK/deploy/atlasschema.yaml" -f "$WORK/deploy/schema-secret.yaml" -o json \
  >"$WORK/schema-status.json" || { cat "$WORK/schema-status.json"; fail "the AtlasSchema is not Ready"; }
grep -q '"reason": "Applied"' "$WORK/schema-status.json" || fail "the AtlasSchema was not applied"
[ "$(schema_tables)" = "posts.id,posts.title,posts.user_id,users.email,users.id,users.nickname" ] ||
  fail "the declared schema was not applied: $(schema_tables)"
echo "declared schema applied: $(schema_tables)"

step "11. AtlasSchema edit: a new column is applied; a dropped one is refused (a run of reconcile -f is a first run)"
sed -i.bak 's/^  title text NOT NULL$/  title text NOT NULL,\n  body text/' schema.sql && rm schema.sql.bak
grep -q '^  body text$' schema.sql || fail "could not edit schema.sql"
schema_manifest
"${OPERATOR[@]}" reconcile -n "$PROJECT" -f "$WORK/deploy/atlasschema.yaml" -f "$WORK/deploy/schema-secret.yaml" -o json \
  >"$WORK/schema-status.json" || { cat "$WORK/schema-status.json"; fail "the edited AtlasSchema is not Ready"; }
has "$(schema_tables)" 'posts.body' || fail "the new column posts.body was not applied: $(schema_tables)"
sed -i.bak -e '/^  nickname text$/d' -e 's/email text NOT NULL,/email text NOT NULL/' schema.sql && rm schema.sql.bak
schema_manifest
if "${OPERATOR[@]}" reconcile -n "$PROJECT" -f "$WORK/deploy/atlasschema.yaml" -f "$WORK/deploy/schema-secret.yaml" \
  -o json >"$WORK/schema-status.json"; then
  cat "$WORK/schema-status.json"
  fail "a destructive AtlasSchema plan was applied without approval"
fi
grep -q 'FirstRunDestructive' "$WORK/schema-status.json" || { cat "$WORK/schema-status.json"; fail "not refused as destructive"; }
has "$(schema_tables)" 'users.nickname' || fail "users.nickname was dropped"
grep -qF "$SCHEMA_URL" "$WORK/schema-status.json" && fail "the target URL appears in the status"
echo "the new column applied; the drop of users.nickname refused (FirstRunDestructive), nothing dropped"

step "OK: the loop works end to end"
