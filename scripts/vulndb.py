#!/usr/bin/env python3
"""Build a Go vulnerability database in govulncheck's v1 file layout, offline.

vuln.go.dev is not reachable from the build machines, but the Go module proxy
serves golang.org/x/vulndb, whose module zip holds every report as an OSV
entry in data/osv/<ID>.json. This script turns that directory into the layout
`govulncheck -db file:///DIR` reads (https://go.dev/security/vuln/database):

    DIR/index/db.json       {"modified": T}
    DIR/index/modules.json  [{"path": M, "vulns": [{"id", "modified"}]}], by path
    DIR/index/vulns.json    [{"id", "modified", "aliases"}], by id
    DIR/ID/<ID>.json        the OSV entry itself

The module zip carries no git history, so the entries' "modified" times are
zero; the snapshot's time (the pseudo-version's timestamp) stands in for them
in the index. The index leaves out "fixed": govulncheck then fetches every
entry of a module it finds and checks the entry's ranges itself, which gives
the same findings as the hosted database (the field only saves fetches).

Usage: vulndb.py OSV_DIR OUT_DIR SNAPSHOT_TIME (RFC 3339, e.g. 2026-11-05T23:49:57Z)
"""

import json
import os
import sys


def main(osv_dir, out_dir, snapshot):
    modules, vulns = {}, []
    os.makedirs(os.path.join(out_dir, "index"), exist_ok=True)
    os.makedirs(os.path.join(out_dir, "ID"), exist_ok=True)
    names = sorted(n for n in os.listdir(osv_dir) if n.endswith(".json"))
    if not names:
        sys.exit(f"vulndb: no OSV entries in {osv_dir}")
    for name in names:
        with open(os.path.join(osv_dir, name), "rb") as f:
            raw = f.read()
        entry = json.loads(raw)
        if name != entry["id"] + ".json":
            sys.exit(f"vulndb: {name} holds entry {entry['id']}")
        modified = entry.get("modified") or snapshot
        if modified.startswith("0001-"):
            modified = snapshot
        vulns.append({"id": entry["id"], "modified": modified, "aliases": entry.get("aliases", [])})
        for affected in entry.get("affected", []):
            path = affected["package"]["name"]
            modules.setdefault(path, []).append({"id": entry["id"], "modified": modified})
        with open(os.path.join(out_dir, "ID", name), "wb") as f:
            f.write(raw)
    index = [{"path": p, "vulns": sorted(v, key=lambda x: x["id"])} for p, v in sorted(modules.items())]
    for endpoint, value in (("db", {"modified": snapshot}), ("modules", index), ("vulns", vulns)):
        with open(os.path.join(out_dir, "index", endpoint + ".json"), "w") as f:
            json.dump(value, f)
    print(f"vulndb: {len(vulns)} entries for {len(modules)} modules, snapshot {snapshot}, in {out_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
