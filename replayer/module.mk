# ---- hak replay and its worker (owner: the replayer helper) ----------------
# replayer/: `hak replay` (parent side, linked into hak) and the worker
# process hak-replay-worker that runs one measured replay.
REPLAY_HAK_SRCS := replayer/cli/replay_cli.c replayer/replay/run.c replayer/replay/alloc_spec.c \
                   replayer/replay/image_build.c replayer/replay/fidelity.c replayer/replay/pace.c replayer/replay/store.c \
                   replayer/common/latency.c replayer/common/counters.c replayer/replay/knob_check.c \
                   replayer/common/touch.c replayer/common/supervise.c \
                   replayer/replay/touch_auto.c
HAK_OBJS += $(REPLAY_HAK_SRCS:%.c=$(OBJ)/%.o)
# hak validate (issue 19): live runs vs replays
HAK_OBJS += $(OBJ)/replayer/cli/validate_cli.o $(OBJ)/replayer/common/live_run.o \
            $(OBJ)/replayer/common/fault_map.o \
            $(OBJ)/replayer/common/rank_stats.o

# The worker: libc only (plus libdl/pthread), so the process under
# measurement carries nothing but the allocator under test.
REPLAY_WORKER_SRCS := replayer/worker/worker.c replayer/worker/worker_loop.c replayer/common/counters.c \
                      replayer/common/touch.c \
                      replayer/worker/rss.c replayer/common/latency.c replayer/worker/alloc_probe.c \
                      traces/common/heap_rss.c
REPLAY_WORKER_OBJS := $(REPLAY_WORKER_SRCS:%.c=$(OBJ)/%.o)
$(BIN)/hak-replay-worker: $(REPLAY_WORKER_OBJS) | $(BIN)
	$(CC) $(CFLAGS_WB) -o $@ $(REPLAY_WORKER_OBJS) -ldl -lpthread
ALL_TARGETS += $(BIN)/hak-replay-worker
# alloc_probe.c reads struct hak_alloc_stats when alloc/hakmem.h exists.
$(OBJ)/replayer/worker/alloc_probe.o: $(wildcard alloc/hakmem.h)
# hak runs the worker next to itself.
$(BIN)/hak: | $(BIN)/hak-replay-worker

# The live counterpart of the replay benchmarks (and a trace maker for the
# tests): random-mixed and producer/consumer workloads calling malloc/free
# directly, optionally writing their own trace.
$(BIN)/hak-live-workload: replayer/bench/live_workload.c $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | $(BIN) deps-ok
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs libzstd) -lpthread
ALL_TARGETS += $(BIN)/hak-live-workload

# Unit tests (cmocka).
$(TESTBIN)/replayer/test_latency: replayer/tests/test_latency.c $(OBJ)/replayer/common/latency.o | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka)
$(TESTBIN)/replayer/test_counters: replayer/tests/test_counters.c $(OBJ)/replayer/common/counters.o | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka)
$(TESTBIN)/replayer/test_fidelity: replayer/tests/test_fidelity.c $(OBJ)/replayer/replay/fidelity.o $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka libzstd) -lm -lpthread

$(TESTBIN)/replayer/test_pace: replayer/tests/test_pace.c $(OBJ)/replayer/replay/pace.o | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka)
CHECK_DEPS += $(TESTBIN)/replayer/test_pace

$(TESTBIN)/replayer/test_image: replayer/tests/test_image.c $(OBJ)/replayer/replay/image_build.o | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka)

# Misbehaving allocators for the failure-handling tests (not named test_*,
# so the runner does not execute them).
$(TESTBIN)/replayer/libcrashalloc.so: replayer/tests/crashalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -shared -o $@ $< -ldl
$(TESTBIN)/replayer/libhangalloc.so: replayer/tests/hangalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -shared -o $@ $< -ldl
$(TESTBIN)/replayer/libfakehak.so: replayer/tests/fakehak.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -shared -o $@ $<
$(TESTBIN)/replayer/libleakalloc.so: replayer/tests/leakalloc.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -shared -o $@ $<

$(TESTBIN)/replayer/test_rank_stats: replayer/tests/test_rank_stats.c $(OBJ)/replayer/common/rank_stats.o | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka) -lm
CHECK_DEPS += $(TESTBIN)/replayer/test_rank_stats
$(TESTBIN)/replayer/test_touch: replayer/tests/test_touch.c $(OBJ)/replayer/common/touch.o | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $^ $(shell pkg-config --libs cmocka)
CHECK_DEPS += $(TESTBIN)/replayer/test_touch
$(TESTBIN)/replayer/test_wait: replayer/tests/test_wait.c replayer/worker/rp_wait.h $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhakcommon.a $(shell pkg-config --libs cmocka) -lpthread
CHECK_DEPS += $(TESTBIN)/replayer/test_wait
# A program with known heap behaviour for replayer/tests/validate.sh.
$(TESTBIN)/replayer/validate_known: replayer/tests/validate_known.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -o $@ $< -lpthread
CHECK_DEPS += $(TESTBIN)/replayer/validate_known
CHECK_DEPS += $(TESTBIN)/replayer/test_latency $(TESTBIN)/replayer/test_counters \
              $(TESTBIN)/replayer/test_fidelity $(TESTBIN)/replayer/test_image \
              $(TESTBIN)/replayer/libcrashalloc.so $(TESTBIN)/replayer/libhangalloc.so \
              $(TESTBIN)/replayer/libfakehak.so $(TESTBIN)/replayer/libleakalloc.so
BENCH_DEPS += $(BIN)/hak-live-workload $(BIN)/hak-replay-worker
# ---- end of hak replay block ------------------------------------------------

# ---- simulator and sweeps (sim_*, sweep_*; owner: the sim helper) ----------
# The model objects form libhaksim.a, linked into `hak` and the unit tests.
SIM_SRCS := replayer/sim/sim_map.c replayer/sim/sim_model.c replayer/sim/sim_layout.c \
            replayer/sim/sim_alloc.c replayer/sim/sim_thp.c replayer/sim/sim_run.c replayer/sim/sim_db.c \
            replayer/sim/sweep_grid.c
SIM_OBJS := $(SIM_SRCS:%.c=$(OBJ)/%.o)
SIM_OBJS += $(OBJ)/replayer/common/touch.o   # the touch policies' names

$(LIB)/libhaksim.a: $(SIM_OBJS) | $(LIB)
	rm -f $@ && ar rcs $@ $^

# hak sim / hak sweep; libhaksim needs libhakdb and libhaktrace, so it goes first.
HAK_OBJS += $(OBJ)/replayer/cli/sim_cli.o $(OBJ)/replayer/cli/sweep_cli.o
HAK_LIBS := $(LIB)/libhaksim.a $(HAK_LIBS)
ALL_TARGETS += $(LIB)/libhaksim.a

SIM_TESTS := $(patsubst replayer/tests/%.c,$(TESTBIN)/replayer/%,$(wildcard replayer/tests/test_sim*.c))
$(TESTBIN)/replayer/test_sim%: replayer/tests/test_sim%.c $(LIB)/libhaksim.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaksim.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs cmocka libzstd) -lpthread -ldl
CHECK_DEPS += $(SIM_TESTS) $(TESTBIN)/replayer/libsimbump.so
# A bump allocator .so for test_sim_run (--alloc PATH.so really serves the replay).
$(TESTBIN)/replayer/libsimbump.so: replayer/tests/sim_bump.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -O2 -fPIC -shared -Wall -Wextra -Werror -o $@ $<
# Model throughput benchmark for bench/sim.bench.sh.
$(BIN)/hak-sim-bench: replayer/bench/sim_bench.c $(LIB)/libhaksim.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | $(BIN) deps-ok
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaksim.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs libzstd) -lpthread
BENCH_DEPS += $(BIN)/hak-sim-bench
# ---- end of simulator block -------------------------------------------------
