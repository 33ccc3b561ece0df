#!/usr/bin/env bash
# govulncheck over every package of the module, against the Go vulnerability
# database as published in the golang.org/x/vulndb module at the version given
# (vuln.go.dev may be out of reach where the module proxy is not): the
# module's OSV files are indexed with its own cmd/indexdb into a scratch
# directory, and govulncheck reads that. Exit status: govulncheck's (3 when
# the code calls a vulnerable function).
set -euo pipefail
cd "$(dirname "$0")/.."
vulndb=${1:?usage: vulncheck.sh VULNDB_VERSION}
govulncheck=golang.org/x/vuln/cmd/govulncheck@v1.9.0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
src=$(cd "$work" && go mod download -json "golang.org/x/vulndb@$vulndb" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
(cd "$src" && GOFLAGS=-mod=mod go run ./cmd/indexdb -vulns data/osv -out "$work/db")
go run "$govulncheck" -db "file://$work/db" ./...
