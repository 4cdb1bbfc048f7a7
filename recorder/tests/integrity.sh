#!/usr/bin/env bash
# Recorder integrity (issue 13), the short version for make check: hostile
# recordings, every trace checked completely (recorder/tests/integrity.lib);
# `make stress` runs the same kinds thousands of times (stress.sh).
. "$(dirname "$0")/../../tests/tap.sh"
B=$HAK_ROOT/build
P=$B/tests/recorder/progs
CHK=$B/tests/recorder/hkt_check
. "$HAK_ROOT/recorder/tests/integrity.lib"

campaign "phased churn, starved helper encoder" 8 phased
campaign "two-thread churn" 6 churn
campaign "allocating SIGALRM handler" 6 signal
campaign "SIGKILL at a random point" 8 sigkill
