#!/usr/bin/env bash
# make stress: the recorder integrity campaigns of issue 13 at full size.
# HAK_STRESS_N (default 2000) recordings each of churn, phased churn and
# the allocating signal handler, and HAK_STRESS_KILL_N (default 200)
# SIGKILL'd ones; every trace checked completely.  Takes about
# 0.5 s per recording (35-45 minutes for the defaults on 2 cores).
. "$(dirname "$0")/../tap.sh"
B=$HAK_ROOT/build
P=$B/tests/recorder/progs
CHK=$B/tests/recorder/hkt_check
. "$HAK_ROOT/recorder/tests/integrity.lib"
n=${HAK_STRESS_N:-2000}
k=${HAK_STRESS_KILL_N:-200}
campaign "two-thread churn" "$n" churn
campaign "allocating SIGALRM handler" "$n" signal
campaign "phased churn, starved helper encoder" "$(( n / 4 ))" phased
campaign "SIGKILL at a random point" "$k" sigkill
