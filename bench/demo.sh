#!/usr/bin/env bash
# `make demo`: the main job end to end on the default SQLite file ./hak.db.
# It grows as components land; every step here must always work.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/build/bin:$PATH"
echo "== hak $(hak --version)"
hak --help
