# traces/: the trace format library (libhaktrace.a) and `hak trace`.
TRACE_SRCS := traces/hak_util.c traces/trace_ops.c traces/trace_codec.c \
              traces/trace_meta.c traces/trace_write.c traces/trace_read.c \
              traces/trace_iter.c traces/trace_replay.c
# Generators and importers (traces-cli): in the library so bench/replayer can use them.
TRACE_SRCS += traces/synth.c traces/synth_heap.c traces/import_android.c \
              traces/heapmodel.c traces/symbolize.c
TRACE_OBJS := $(TRACE_SRCS:%.c=$(OBJ)/%.o)

$(LIB)/libhaktrace.a: $(TRACE_OBJS) | $(LIB)
	ar rcs $@ $^

HAK_OBJS += $(OBJ)/traces/trace_cli.o
# `hak trace` subcommands (traces-cli)
TRACE_CLI_OBJS := $(addprefix $(OBJ)/traces/,cli_common.o cli_sink.o cli_out.o cli_info.o \
              cli_dump.o cli_stats.o cli_validate.o cli_synth.o cli_import.o)
HAK_OBJS += $(TRACE_CLI_OBJS)
HAK_LIBS += $(LIB)/libhaktrace.a
ALL_TARGETS += $(LIB)/libhaktrace.a

# Unit tests: traces/tests/test_*.c, each linked against libhaktrace.
TRACE_TESTS := $(patsubst traces/tests/%.c,$(TESTBIN)/traces/%,$(wildcard traces/tests/test_*.c))
$(TESTBIN)/traces/%: traces/tests/%.c $(LIB)/libhaktrace.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(LIB)/libhaktrace.a $(shell pkg-config --libs cmocka libzstd) -lpthread
CHECK_DEPS += $(TRACE_TESTS)

# test_cli_stats drives the subcommands in-process, so it links their objects.
$(TESTBIN)/traces/test_cli_stats: traces/tests/test_cli_stats.c $(TRACE_CLI_OBJS) $(LIB)/libhaktrace.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(TRACE_CLI_OBJS) $(LIB)/libhaktrace.a $(shell pkg-config --libs cmocka libzstd) -lpthread

# Speed/size benchmark of the format (bench/trace.bench.sh).
$(BUILD)/bench/bench_codec: traces/bench/bench_codec.c $(LIB)/libhaktrace.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(LIB)/libhaktrace.a $(shell pkg-config --libs libzstd) -lpthread
BENCH_DEPS += $(BUILD)/bench/bench_codec
