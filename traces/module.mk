# traces/: the trace format library (libhaktrace.a) and `hak trace`.
# The format library proper (traces-core): also compiled into the fuzzer.
# Project-wide utilities (traces/common: hash, version, heap-only RSS):
# libhakcommon.a, linked after every other archive.
COMMON_SRCS := traces/common/hak_util.c traces/common/hak_cmd.c traces/common/heap_rss.c
COMMON_OBJS := $(COMMON_SRCS:%.c=$(OBJ)/%.o)
$(LIB)/libhakcommon.a: $(COMMON_OBJS) | $(LIB)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(LIB)/libhakcommon.a

TRACE_CORE_SRCS := traces/lib/trace_ops.c traces/lib/trace_encode.c traces/lib/trace_decode.c \
              traces/lib/trace_meta.c traces/lib/trace_write.c traces/lib/trace_read.c \
              traces/lib/trace_iter.c traces/lib/trace_replay.c traces/lib/trace_pages.c
TRACE_SRCS := $(TRACE_CORE_SRCS)
# Generators and importers (traces-cli): in the library so bench/replayer can use them.
TRACE_SRCS += traces/lib/synth.c traces/lib/synth_heap.c traces/lib/import_android.c \
              traces/lib/heapmodel.c traces/lib/symbolize.c traces/lib/siteview.c \
              traces/lib/site_timeline.c
TRACE_OBJS := $(TRACE_SRCS:%.c=$(OBJ)/%.o)

$(LIB)/libhaktrace.a: $(TRACE_OBJS) | $(LIB)
	rm -f $@ && ar rcs $@ $^

HAK_OBJS += $(OBJ)/traces/cli/trace_cli.o
include traces/lib/pprof.mk   # hak trace export --pprof
# `hak trace` subcommands (traces-cli)
TRACE_CLI_OBJS := $(addprefix $(OBJ)/traces/cli/,cli_common.o cli_sink.o cli_out.o cli_info.o \
              cli_dump.o cli_stats.o cli_validate.o cli_synth.o cli_import.o)
# the memory-profiler views (siteview.h): leaks, peak, temporaries, flame, diff
TRACE_CLI_OBJS += $(OBJ)/traces/cli/cli_info_json.o   # hak trace info --json
TRACE_CLI_OBJS += $(addprefix $(OBJ)/traces/cli/,cli_views.o cli_leaks.o cli_peak.o cli_temp.o \
              cli_flame.o cli_diff.o cli_timeline.o)
TRACE_CLI_OBJS += $(OBJ)/traces/cli/cli_allviews.o   # hak trace views: all in one pass
HAK_OBJS += $(TRACE_CLI_OBJS)
HAK_LIBS += $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a
ALL_TARGETS += $(LIB)/libhaktrace.a

# Unit tests: traces/tests/test_*.c, each linked against libhaktrace.
TRACE_TESTS := $(patsubst traces/tests/%.c,$(TESTBIN)/traces/%,$(wildcard traces/tests/test_*.c))
$(TESTBIN)/traces/%: traces/tests/%.c $(wildcard traces/tests/*.h) $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs cmocka libzstd) -lpthread
CHECK_DEPS += $(TRACE_TESTS)
# hkt_craft: traces no command writes (loss records, side-chunk bombs) and a
# peak-RSS probe, for the shell tests (traces/tests/trace_loss.sh).
CHECK_DEPS += $(TESTBIN)/traces/hkt_craft
# Fuzz regression replayers: each #includes its fuzz harness and runs it
# over the committed inputs (traces/fuzz/*.c, traces/tests/fuzz_replay.h).
# They are built with ASan+UBSan (gcc) over sanitized copies of the sources
# in $(OBJ)/san/, so a finding only a sanitizer sees (undefined behaviour,
# a small overread, a leak) fails `make check` again if its fix is undone.
# Without gcc's sanitizer runtimes they are built plain and still replay.
SAN_OK := $(shell printf 'int main(void){return 0;}\n' | $(CC) -fsanitize=address,undefined \
            -x c - -o /dev/null 2>/dev/null && echo 1)
SAN_ON := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SAN_FLAGS := $(if $(SAN_OK),$(SAN_ON))
SAN_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -D_GNU_SOURCE -DHAK_DEBUG=1 -Itraces/lib -Itraces/common -Itraces/cli $(SAN_FLAGS)
$(OBJ)/san/traces/%.o: traces/%.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -MMD -MP -c -o $@ $<
san_objs = $(patsubst %.c,$(OBJ)/san/%.o,$(1))
FUZZ_REPLAY_LIBS = $(shell pkg-config --libs libzstd) -lpthread -lm
$(TESTBIN)/traces/test_fuzz_regressions: $(call san_objs,$(TRACE_CORE_SRCS) $(COMMON_SRCS)) traces/fuzz/fuzz_reader.c \
    traces/fuzz/fuzz_fixed.h
$(TESTBIN)/traces/test_fuzz_import: $(call san_objs,$(TRACE_CORE_SRCS) $(COMMON_SRCS) traces/lib/import_android.c \
    traces/cli/cli_sink.c) traces/fuzz/fuzz_import.c
$(TESTBIN)/traces/test_fuzz_cli: $(call san_objs,$(TRACE_SRCS) $(COMMON_SRCS) $(TRACE_CLI_OBJS:$(OBJ)/%.o=%.c)) \
    traces/fuzz/fuzz_cli.c traces/fuzz/fuzz_fixed.h
$(TESTBIN)/traces/test_fuzz_symbolize: $(call san_objs,traces/lib/symbolize.c) traces/fuzz/fuzz_symbolize.c
$(TESTBIN)/traces/test_fuzz_colmodel: $(call san_objs,$(TRACE_CORE_SRCS) $(COMMON_SRCS)) traces/fuzz/fuzz_colmodel.c
FUZZ_REPLAYERS := $(addprefix $(TESTBIN)/traces/,test_fuzz_regressions test_fuzz_import \
                    test_fuzz_cli test_fuzz_symbolize test_fuzz_colmodel)
$(FUZZ_REPLAYERS): $(TESTBIN)/traces/%: traces/tests/%.c traces/tests/fuzz_replay.h | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(SAN_CFLAGS) -o $@ $< $(filter $(OBJ)/san/%,$^) $(FUZZ_REPLAY_LIBS)

# test_cli_stats drives the subcommands in-process, so it links their objects.
$(TESTBIN)/traces/test_cli_stats: traces/tests/test_cli_stats.c $(TRACE_CLI_OBJS) $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(TRACE_CLI_OBJS) $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs cmocka libzstd) -lpthread

# Speed/size benchmark of the format (bench/trace.bench.sh).
$(BUILD)/bench/bench_codec: traces/bench/bench_codec.c $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs libzstd) -lpthread
BENCH_DEPS += $(BUILD)/bench/bench_codec
# Re-encodes a recorded trace: bytes per column and encoder cost (experiments).
$(BUILD)/bench/bench_recode: traces/bench/bench_recode.c $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a $(shell pkg-config --libs libzstd) -lpthread
BENCH_DEPS += $(BUILD)/bench/bench_recode

# `make fuzz`: libFuzzer (clang) for FUZZ_SECONDS (default 60) per
# harness, one process each, one after the other:
#  - fuzz_reader: every trace-reader path; seeds traces/tests/fuzz-regressions
#    and traces/corpus; new corpus entries go to build/fuzz/corpus.
#  - fuzz_import: `hak trace import` (Android text -> events -> writer ->
#    reader round trip); seeds traces/tests/import-regressions; corpus in
#    build/fuzz/import-corpus.
#  - fuzz_cli: hak trace info/dump/stats/validate and the views in-process; seeds as the
#    reader's; corpus in build/fuzz/cli-corpus.
#  - fuzz_symbolize: the symboliser's ELF reader; seeds
#    traces/tests/elf-regressions; corpus in build/fuzz/elf-corpus.
#  - fuzz_colmodel: format 6's model-coded columns (OP, INREF, OUT) fed
#    directly, decode and round trip; seeds traces/tests/colmodel-regressions;
#    corpus in build/fuzz/colmodel-corpus.
# `make fuzz-NAME` runs one.  Crashes and slow inputs go to build/fuzz/
# (reader) and build/fuzz/NAME- (others); copy them into the harness's
# regressions directory so `make check` replays them.
# Installs clang and libclang-rt-14-dev when they are missing and we are root.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -std=gnu11 -D_GNU_SOURCE -Itraces/lib -Itraces/common -Itraces/cli -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=undefined
FUZZ_RUN = -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
$(BUILD)/fuzz/fuzz_reader: traces/fuzz/fuzz_reader.c traces/fuzz/fuzz_fixed.h $(TRACE_CORE_SRCS) $(wildcard traces/*/*.h) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ traces/fuzz/fuzz_reader.c $(TRACE_CORE_SRCS) $(COMMON_SRCS) -lzstd -lpthread
FUZZ_IMPORT_SRCS := $(TRACE_CORE_SRCS) $(COMMON_SRCS) traces/lib/import_android.c traces/cli/cli_sink.c
$(BUILD)/fuzz/fuzz_import: traces/fuzz/fuzz_import.c $(FUZZ_IMPORT_SRCS) $(wildcard traces/*/*.h) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ traces/fuzz/fuzz_import.c $(FUZZ_IMPORT_SRCS) -lzstd -lpthread
FUZZ_CLI_SRCS := $(TRACE_SRCS) $(COMMON_SRCS) $(TRACE_CLI_OBJS:$(OBJ)/%.o=%.c)
$(BUILD)/fuzz/fuzz_cli: traces/fuzz/fuzz_cli.c traces/fuzz/fuzz_fixed.h $(FUZZ_CLI_SRCS) $(wildcard traces/*/*.h) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ traces/fuzz/fuzz_cli.c $(FUZZ_CLI_SRCS) -lzstd -lpthread -lm
$(BUILD)/fuzz/fuzz_colmodel: traces/fuzz/fuzz_colmodel.c traces/lib/trace_colmodel.c $(TRACE_CORE_SRCS) $(wildcard traces/*/*.h) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ traces/fuzz/fuzz_colmodel.c $(TRACE_CORE_SRCS) $(COMMON_SRCS) -lzstd -lpthread
$(BUILD)/fuzz/fuzz_symbolize: traces/fuzz/fuzz_symbolize.c traces/lib/symbolize.c $(wildcard traces/*/*.h) | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ traces/fuzz/fuzz_symbolize.c traces/lib/symbolize.c

.PHONY: fuzz-deps
fuzz-deps:
	@if ! command -v $(FUZZ_CC) >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "hakmem: installing fuzzing dependencies: clang libclang-rt-14-dev"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang libclang-rt-14-dev >/dev/null \
	      || { echo "hakmem: apt-get install failed" >&2; exit 1; }; \
	  else \
	    echo "hakmem: make fuzz needs clang and libFuzzer: sudo apt-get install clang libclang-rt-14-dev" >&2; exit 1; \
	  fi; \
	fi

# One command per harness (make fuzz runs them in a row, so one fuzzer
# process at a time even under make -j).
FUZZ_CMD_reader = mkdir -p $(BUILD)/fuzz/corpus && \
  $(BUILD)/fuzz/fuzz_reader $(FUZZ_RUN) -max_len=65536 -artifact_prefix=$(BUILD)/fuzz/ \
  $(BUILD)/fuzz/corpus traces/tests/fuzz-regressions traces/corpus
FUZZ_CMD_import = mkdir -p $(BUILD)/fuzz/import-corpus && \
  $(BUILD)/fuzz/fuzz_import $(FUZZ_RUN) -max_len=16384 -dict=traces/fuzz/import.dict \
  -artifact_prefix=$(BUILD)/fuzz/import- $(BUILD)/fuzz/import-corpus traces/tests/import-regressions
FUZZ_CMD_cli = mkdir -p $(BUILD)/fuzz/cli-corpus && \
  $(BUILD)/fuzz/fuzz_cli $(FUZZ_RUN) -max_len=65536 -close_fd_mask=2 -artifact_prefix=$(BUILD)/fuzz/cli- \
  $(BUILD)/fuzz/cli-corpus traces/tests/fuzz-regressions traces/corpus
FUZZ_CMD_symbolize = mkdir -p $(BUILD)/fuzz/elf-corpus && \
  $(BUILD)/fuzz/fuzz_symbolize $(FUZZ_RUN) -max_len=16384 -artifact_prefix=$(BUILD)/fuzz/elf- \
  $(BUILD)/fuzz/elf-corpus traces/tests/elf-regressions
FUZZ_CMD_colmodel = mkdir -p $(BUILD)/fuzz/colmodel-corpus && \
  $(BUILD)/fuzz/fuzz_colmodel $(FUZZ_RUN) -max_len=16384 -artifact_prefix=$(BUILD)/fuzz/colmodel- \
  $(BUILD)/fuzz/colmodel-corpus traces/tests/colmodel-regressions
FUZZ_HARNESSES := reader import cli symbolize colmodel
.PHONY: fuzz $(FUZZ_HARNESSES:%=fuzz-%)
fuzz: $(FUZZ_HARNESSES:%=$(BUILD)/fuzz/fuzz_%)
	$(foreach h,$(FUZZ_HARNESSES),$(FUZZ_CMD_$(h)) && ) true
$(FUZZ_HARNESSES:%=fuzz-%): fuzz-%: $(BUILD)/fuzz/fuzz_%
	$(FUZZ_CMD_$*)
