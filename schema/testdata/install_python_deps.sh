#!/bin/sh
# Installs what schema/testdata/decode_fastavro.py needs (fastavro), for the
# cross-language check in schema/fastavro_test.go.
set -eu
exec python3 -m pip install --user -r "$(dirname "$0")/requirements.txt"
