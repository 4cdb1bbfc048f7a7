#!/usr/bin/env bash
# The `hak` dispatcher: help, version, unknown commands, --help everywhere.
. "$(dirname "$0")/../tap.sh"

check "hak --help exits 0 and lists commands" bash -c 'hak --help | grep -q "^commands:"'
check "hak --version prints a version" bash -c 'hak --version | grep -qE "^hak [0-9]+\.[0-9]+"'
check_fails "hak with no command is a usage error" hak
check_fails "unknown command fails cleanly" hak frobnicate
check "unknown command names itself" bash -c 'hak frobnicate 2>&1 | grep -q "frobnicate"'
for c in $(hak --help | awk '/^commands:/{f=1;next} f&&!NF{f=0} f{print $1}'); do
  check "hak $c --help exits 0" bash -c "hak $c --help >/dev/null"
done
