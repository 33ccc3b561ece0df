#!/usr/bin/env bash
# Prints the directory the test services of this checkout run from
# ($SLUICE_TESTENV_DIR, else one named after a hash of the checkout's path):
#
#   source "$(testenv/dir.sh)/env.sh"   # the addresses of the running services
set -euo pipefail
# shellcheck source=testenv/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
printf '%s\n' "$TESTENV_DIR"
