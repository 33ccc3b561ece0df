#!/bin/sh
# Installs schemathesis, the property-based API fuzzer that checks the REST
# API against its OpenAPI document (cmd/sluice/apifuzz_test.go), into a
# virtual environment of its own. Prints nothing and returns at once when it
# is already there.
set -eu
venv="${SLUICE_SCHEMATHESIS_VENV:-$HOME/.cache/sluice-testenv/schemathesis}"
version=4.32.5
if [ -x "$venv/bin/schemathesis" ] && "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
  exit 0
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
