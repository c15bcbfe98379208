#!/usr/bin/env bash
# Supply-chain audit: govulncheck over the Go module and pip-audit over the
# Python lock file. Every finding fails the audit unless audit/exceptions.txt
# lists its id with a reason. Run from the repository root (make audit).
#
# vuln.go.dev is not reachable here; the Go module proxy serves
# golang.org/x/vulndb, whose module zip holds the OSV entries. The snapshot is
# pinned below by version and checksum (go.sum's h1: form, verified by the go
# command against the checksum database when it downloads); scripts/vulndb.py
# turns it into govulncheck's v1 database layout, cached between runs. To
# refresh it: pick a newer pseudo-version (go list -m -versions does not list
# pseudo-versions; `go list -m golang.org/x/vulndb@master` names the newest),
# download it, and update VULNDB_VERSION, VULNDB_SUM and VULNDB_TIME.
set -euo pipefail
cd "$(dirname "$0")/.."

VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
VULNDB_SUM=h1:mfngRv0Yoh0VApsXKEN82CjD99kl7mtparN3bs3JnqI=
VULNDB_TIME=2026-11-05T23:49:57Z
PY=${PY:-.venv/bin/python}
EXCEPTIONS=audit/exceptions.txt
CACHE=${CLAIMRISK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/claimrisk}
DB=$CACHE/vulndb-$VULNDB_VERSION
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

echo "== vulnerability database: golang.org/x/vulndb@$VULNDB_VERSION"
info=$(go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION")
read -r dir sum < <(printf '%s' "$info" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d.get("Dir",""), d.get("Sum",""))')
if [ "$sum" != "$VULNDB_SUM" ]; then
  echo "audit: golang.org/x/vulndb@$VULNDB_VERSION has checksum $sum, want $VULNDB_SUM" >&2
  exit 1
fi
if [ ! -f "$DB/index/modules.json" ]; then
  rm -rf "$DB.tmp"
  "$PY" scripts/vulndb.py "$dir/data/osv" "$DB.tmp" "$VULNDB_TIME"
  rm -rf "$DB" && mv "$DB.tmp" "$DB"
fi

echo "== govulncheck ./... (golang.org/x/vuln's, pinned as a tool in go.mod)"
set +e
go tool govulncheck -db "file://$DB" -format json ./... >"$OUT/govulncheck.json"
rc=$?
set -e
if [ $rc -ne 0 ]; then
  echo "audit: govulncheck failed (exit $rc)" >&2
  exit 1
fi

echo "== pip-audit -r requirements.txt (PyPI's advisory data)"
set +e
"$(dirname "$PY")/pip-audit" -r requirements.txt --require-hashes --disable-pip --progress-spinner off \
  -f json -o "$OUT/pip-audit.json" 2>"$OUT/pip-audit.err"
rc=$?
set -e
# pip-audit exits 1 when it finds vulnerabilities; anything else without a
# report is a failure to audit.
if [ ! -s "$OUT/pip-audit.json" ]; then
  cat "$OUT/pip-audit.err" >&2
  echo "audit: pip-audit failed (exit $rc)" >&2
  exit 1
fi

"$PY" - "$OUT/govulncheck.json" "$OUT/pip-audit.json" "$EXCEPTIONS" <<'EOF'
import json, sys

go_path, py_path, exc_path = sys.argv[1:]
exceptions = {}
for line in open(exc_path):
    line = line.strip()
    if line and not line.startswith("#"):
        ident, _, reason = line.partition(" ")
        if not reason.strip():
            sys.exit(f"audit: {exc_path}: {ident} has no reason")
        exceptions[ident] = reason.strip()

# govulncheck -format json is a stream of objects; a finding whose first
# frame names a function is reachable from this module's code.
findings = {}  # id -> (where, summary)
summaries = {}
text, dec, i = open(go_path).read(), json.JSONDecoder(), 0
imported = set()
while True:
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        break
    obj, i = dec.raw_decode(text, i)
    if "osv" in obj:
        summaries[obj["osv"]["id"]] = obj["osv"].get("summary", "")
    f = obj.get("finding")
    if f:
        top = f["trace"][0]
        where = f"{top.get('module')}@{top.get('version', '')}"
        if top.get("function"):
            findings[f["osv"]] = (f"Go {where}, fixed in {f.get('fixed_version', 'no release')}", None)
        else:
            imported.add(f["osv"])
for ident in findings:
    findings[ident] = (findings[ident][0], summaries.get(ident, ""))

py = json.load(open(py_path))
for dep in py.get("dependencies", []):
    for v in dep.get("vulns", []):
        ids = [v["id"]] + v.get("aliases", [])
        key = next((x for x in ids if x in exceptions), v["id"])
        fixes = ", ".join(v.get("fix_versions", [])) or "no release"
        findings[key] = (f"Python {dep['name']}=={dep['version']}, fixed in {fixes}", v.get("description", "")[:100])

unexplained = []
print(f"govulncheck: {len(findings) and sum(1 for k in findings if findings[k][0].startswith('Go'))} reachable finding(s); "
      f"{len(imported - set(findings))} more in imported code that is never called (not counted)")
print(f"pip-audit: {len(py.get('dependencies', []))} packages, {sum(len(d.get('vulns', [])) for d in py.get('dependencies', []))} finding(s)")
for ident in sorted(findings):
    where, summary = findings[ident]
    if ident in exceptions:
        print(f"  accepted {ident}: {where}: {exceptions[ident]}")
    else:
        print(f"  FINDING  {ident}: {where}: {summary}")
        unexplained.append(ident)
stale = sorted(set(exceptions) - set(findings))
for ident in stale:
    print(f"  stale exception {ident}: no longer found; remove it from {exc_path}")
if unexplained:
    sys.exit(f"audit: {len(unexplained)} known vulnerabilit{'y' if len(unexplained) == 1 else 'ies'} not explained in {exc_path}: {' '.join(unexplained)}")
print(f"audit: no unexplained vulnerability ({len(findings)} accepted in {exc_path})")
EOF
