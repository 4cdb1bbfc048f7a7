# recorder/: the LD_PRELOAD recorder libhakrec.so and `hak record`.
REC_LIB_SRCS := recorder/rec_interpose.c recorder/rec_exec.c recorder/rec_thread.c recorder/rec_seq.c \
                recorder/rec_writer.c recorder/rec_jobs.c recorder/rec_stacks.c recorder/rec_cfi.c recorder/rec_modules.c \
                recorder/rec_clock.c recorder/rec_config.c recorder/rec_fds.c recorder/rec_window.c recorder/rec_attach.c \
                recorder/rec_heap.c recorder/rec_arena.c recorder/rec_exit.c recorder/rec_exitpath.c
REC_LIB_OBJS := $(REC_LIB_SRCS:%.c=$(OBJ)/%.o)
# The writer half of the trace library, linked in statically (and hidden).
REC_TRACE_OBJS := $(patsubst %,$(OBJ)/traces/lib/%.o,trace_ops trace_encode trace_decode trace_meta trace_write)
REC_TRACE_OBJS += $(OBJ)/traces/common/hak_util.o
REC_TRACE_OBJS += $(OBJ)/traces/common/heap_rss.o   # heap samples (rec_heap.c)
# Hidden by default; the version script exports the interposed symbols.
CFLAGS_recorder = -fvisibility=hidden $(shell pkg-config --cflags libunwind)

$(LIB)/libhakrec.so: $(REC_LIB_OBJS) $(REC_TRACE_OBJS) recorder/libhakrec.map | $(LIB)
	$(CC) -shared -o $@ $(REC_LIB_OBJS) $(REC_TRACE_OBJS) \
	  -Wl,--version-script=recorder/libhakrec.map -Wl,-z,defs \
	  $(shell pkg-config --libs libzstd libunwind) -lpthread -ldl

# The debug build of the library (-DHAK_DEBUG=1: REC_ASSERT checks the
# recorder's invariants, rec_internal.h), used by recorder/tests/debug.sh.
REC_DEBUG_OBJS := $(REC_LIB_SRCS:%.c=$(OBJ)/debug/%.o)
$(OBJ)/debug/recorder/%.o: recorder/%.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) $(call module_includes,recorder) $(CFLAGS_recorder) -DHAK_DEBUG=1 -MMD -MP -c -o $@ $<
$(TESTBIN)/recorder/libhakrec_debug.so: $(REC_DEBUG_OBJS) $(REC_TRACE_OBJS) recorder/libhakrec.map
	@mkdir -p $(dir $@)
	$(CC) -shared -o $@ $(REC_DEBUG_OBJS) $(REC_TRACE_OBJS) \
	  -Wl,--version-script=recorder/libhakrec.map -Wl,-z,defs \
	  $(shell pkg-config --libs libzstd libunwind) -lpthread -ldl
CHECK_DEPS += $(TESTBIN)/recorder/libhakrec_debug.so

HAK_OBJS += $(OBJ)/recorder/cli/record_cli.o $(OBJ)/recorder/rec_config.o $(OBJ)/recorder/cli/record_control.o $(OBJ)/recorder/cli/record_inject.o
ALL_TARGETS += $(LIB)/libhakrec.so

# Test programs run under the recorder by recorder/tests/*.sh.
REC_PROGS := $(patsubst recorder/tests/progs/%.c,$(TESTBIN)/recorder/progs/%,$(wildcard recorder/tests/progs/*.c)) \
             $(patsubst recorder/tests/progs/%.cc,$(TESTBIN)/recorder/progs/%,$(wildcard recorder/tests/progs/*.cc))
# non-PIE on purpose: a canonical PLT entry for malloc (the program's comment)
$(TESTBIN)/recorder/progs/nopie_mallocptr: recorder/tests/progs/nopie_mallocptr.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -fno-pie -no-pie -o $@ $<
# measures its own heap as the recorder does (traces/common/heap_rss.c)
$(TESTBIN)/recorder/progs/heap_known: recorder/tests/progs/heap_known.c traces/common/heap_rss.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Itraces/common -o $@ $^
$(TESTBIN)/recorder/progs/%: recorder/tests/progs/%.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lpthread
$(TESTBIN)/recorder/progs/%: recorder/tests/progs/%.cc | deps-ok
	@mkdir -p $(dir $@)
	g++ -O2 -g -Wall -Wextra -Werror -o $@ $< -lpthread
# Two builds of one plugin for progs/dl_reload: same code offsets,
# different frame sizes (tests/plug/dl_plug.c).
$(TESTBIN)/recorder/libplug_a.so: recorder/tests/plug/dl_plug.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -shared -DFRAME=24 -o $@ $<
$(TESTBIN)/recorder/libplug_b.so: recorder/tests/plug/dl_plug.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -fPIC -shared -DFRAME=88 -o $@ $<
CHECK_DEPS += $(TESTBIN)/recorder/libplug_a.so $(TESTBIN)/recorder/libplug_b.so
# Preloaded after the recorder by loss.sh: a malloc that blocks on request.
$(TESTBIN)/recorder/libslow_malloc.so: recorder/tests/plug/slow_malloc.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -Wall -Wextra -Werror -fPIC -shared -o $@ $<
CHECK_DEPS += $(TESTBIN)/recorder/libslow_malloc.so
# The trace checker used by the tests: hak_tr_open + hak_replay_build.
$(TESTBIN)/recorder/hkt_check: recorder/tests/hkt_check.c $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs libzstd) -lpthread
CHECK_DEPS += $(REC_PROGS) $(TESTBIN)/recorder/hkt_check $(LIB)/libhakrec.so

# Benchmark program (random-mixed synthetic workload).
$(BUILD)/bench/random_mixed: recorder/bench/random_mixed.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $< -lpthread
# Allocation-heavy with deep-ish, varied stacks (the call-site bench).
$(BUILD)/bench/factor: recorder/bench/factor.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -o $@ $<
# The bench's floor: an interposer that records nothing (null_preload.c).
$(BUILD)/bench/libnullpreload.so: recorder/bench/null_preload.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -fPIC -shared -o $@ $<
BENCH_DEPS += $(BUILD)/bench/random_mixed $(BUILD)/bench/factor $(BUILD)/bench/libnullpreload.so $(LIB)/libhakrec.so
CHECK_DEPS += $(BUILD)/bench/random_mixed $(BUILD)/bench/libnullpreload.so   # recorder/tests/random_mixed.sh
BENCH_DEPS += $(TESTBIN)/recorder/progs/service   # bench/service.bench.sh

# The heap-sample buffer (rec_heap.c compiled into the test, clock and
# trace writer stubbed): filled deterministically.
$(TESTBIN)/recorder/test_heap_buf: recorder/tests/test_heap_buf.c recorder/rec_heap.c $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhakcommon.a $(shell pkg-config --libs cmocka) -lpthread
CHECK_DEPS += $(TESTBIN)/recorder/test_heap_buf
