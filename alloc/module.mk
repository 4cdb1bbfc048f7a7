# alloc/: the HAKMEM allocator.  libc only.
#   build/lib/libhakmem.so  LD_PRELOAD-able malloc replacement
#   build/lib/libhakmem.a   the same objects (link --whole-archive to replace malloc)
# The allocator has its own flags: -O3, initial-exec TLS, hidden visibility
# with explicit exports (HAK_API), no sanitizers, no builtin malloc folding
# (GCC must not turn our own malloc+memset into a call to calloc).
ALLOC_SRCS := alloc/hak_config.c alloc/hak_os.c alloc/hak_clock.c alloc/hak_init.c alloc/hak_ss.c \
              alloc/hak_heap.c alloc/hak_large.c alloc/hak_huge.c alloc/hak_api.c alloc/hak_check.c \
              alloc/hak_stats.c alloc/hak_report.c alloc/hak_override.c \
              alloc/hak_trim.c
ALLOC_OBJS := $(ALLOC_SRCS:%.c=$(OBJ)/%.o)
ALLOC_INTERNAL_SRCS := $(filter-out alloc/hak_override.c,$(ALLOC_SRCS))

# HAK_DEBUG=0..3 (alloc/hak_assert.h): internal invariant checks, 0 (none)
# in a release build.  The level is recorded in a stamp that every
# allocator object depends on, so changing it rebuilds them.
# `make alloc-debug` builds a level-3 libhakmem.so in build/debug/.
HAK_DEBUG ?= 0
ALLOC_VERSION_DEF := -DHAKMEM_VERSION='"$(HAK_VERSION_STR)"'
CFLAGS_alloc := -O3 -fno-plt -ftls-model=initial-exec -fvisibility=hidden \
                -fno-builtin-malloc -fno-builtin-calloc -fno-builtin-free \
                -fno-builtin-realloc -fno-stack-protector -I$(OBJ)/alloc \
                -DHAK_DEBUG=$(HAK_DEBUG) $(ALLOC_VERSION_DEF)
$(OBJ)/alloc/hak_debug.stamp: FORCE
	@mkdir -p $(dir $@)
	@[ -f $@ ] && [ "$$(cat $@)" = "$(HAK_DEBUG)" ] || echo "$(HAK_DEBUG)" > $@
$(ALLOC_OBJS): $(OBJ)/alloc/hak_debug.stamp

.PHONY: alloc-debug
alloc-debug:
	$(MAKE) BUILD=build/debug HAK_DEBUG=3 build/debug/lib/libhakmem.so build/debug/lib/libhakmem.a

# The build id (git rev, "+dirty" when the tree has local changes) is baked
# into hak_alloc_version(); the header is rewritten only when it changes.
# HAKMEM_BUILD_ID=REV overrides it for trees without .git (hakmem@REV builds
# from `git archive`, whose rev only the caller knows).
HAKMEM_BUILD_ID ?=
$(OBJ)/alloc/build_id.h: FORCE | deps-ok
	@mkdir -p $(dir $@)
	@id='$(HAKMEM_BUILD_ID)'; \
	 if [ -z "$$id" ]; then id=$$(git rev-parse --short HEAD 2>/dev/null || echo unknown); \
	   git diff --quiet HEAD -- alloc 2>/dev/null || id="$$id+dirty"; fi; \
	 line="#define HAKMEM_BUILD_ID \"$$id\""; \
	 [ -f $@ ] && [ "$$(cat $@)" = "$$line" ] || echo "$$line" > $@
$(OBJ)/alloc/hak_stats.o: $(OBJ)/alloc/build_id.h
.PHONY: FORCE
FORCE:

$(LIB)/libhakmem.so: $(ALLOC_OBJS) | $(LIB)
	$(CC) -shared -o $@ $(ALLOC_OBJS) -Wl,-soname,libhakmem.so -Wl,-Bsymbolic-functions \
	  -Wl,-z,now -Wl,--no-undefined -nodefaultlibs -lc
$(LIB)/libhakmem.a: $(ALLOC_OBJS) | $(LIB)
	rm -f $@ && ar rcs $@ $^
ALL_TARGETS += $(LIB)/libhakmem.so $(LIB)/libhakmem.a

# Tests: test_*.c link libhakmem.a whole (so even cmocka's mallocs are ours);
# *_asan copies build the allocator internals (no libc overrides) with
# AddressSanitizer + UBSan and run the same tests through the hak_* names.
ALLOC_TEST_NAMES := $(patsubst alloc/tests/%.c,%,$(wildcard alloc/tests/test_*.c))
ALLOC_TESTS := $(ALLOC_TEST_NAMES:%=$(TESTBIN)/alloc/%) \
               $(ALLOC_TEST_NAMES:%=$(TESTBIN)/alloc/%_asan) \
               $(TESTBIN)/alloc/knob_probe
ALLOC_TEST_CFLAGS = $(CFLAGS_BASE) -Ialloc -fno-builtin-malloc -fno-builtin-free
ALLOC_ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
                    -fno-sanitize-recover=undefined -DHAK_INTERNAL_ONLY -DHAK_DEBUG=3 -I$(OBJ)/alloc \
                    $(ALLOC_VERSION_DEF)

$(TESTBIN)/alloc/test_%: alloc/tests/test_%.c alloc/tests/alloc_test.h $(LIB)/libhakmem.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_TEST_CFLAGS) -o $@ $< -Wl,--whole-archive $(LIB)/libhakmem.a -Wl,--no-whole-archive \
	  $(shell pkg-config --libs cmocka) -lpthread
$(TESTBIN)/alloc/test_%_asan: alloc/tests/test_%.c alloc/tests/alloc_test.h $(ALLOC_INTERNAL_SRCS) alloc/*.h $(OBJ)/alloc/build_id.h | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Ialloc $(ALLOC_ASAN_FLAGS) -o $@ \
	  $< $(ALLOC_INTERNAL_SRCS) $(shell pkg-config --libs cmocka) -lpthread
$(TESTBIN)/alloc/knob_probe: alloc/tests/knob_probe.c $(LIB)/libhakmem.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_TEST_CFLAGS) -o $@ $< -Wl,--whole-archive $(LIB)/libhakmem.a -Wl,--no-whole-archive -lpthread
# misuse: plain libc program; alloc/tests/misuse.sh runs its cases under
# LD_PRELOAD of hakmem (and shows the peers beside it).
$(TESTBIN)/alloc/misuse: alloc/tests/misuse.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-builtin -o $@ $<
# race: plain libc program, a many-thread allocation race with content
# checks, run under LD_PRELOAD by alloc/tests/race.sh (make check) and
# tests/stress/alloc_race.sh (make stress).
$(TESTBIN)/alloc/race: alloc/tests/race.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-builtin -o $@ $< -lpthread
CHECK_DEPS += $(ALLOC_TESTS) $(LIB)/libhakmem.so $(TESTBIN)/alloc/misuse $(TESTBIN)/alloc/race

# Bench driver: plain C, linked against nothing special; each allocator is
# swapped in with LD_PRELOAD by bench/alloc.bench.sh.
$(BUILD)/bench/bench_alloc: alloc/bench/bench_alloc.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -fno-builtin-malloc \
	  -fno-builtin-free -fno-builtin-calloc -o $@ $< -lpthread
BENCH_DEPS += $(BUILD)/bench/bench_alloc $(LIB)/libhakmem.so

# Workload suite driver (bench/suite/workloads.c), run by bench/suite.bench.sh
# under LD_PRELOAD of each allocator.
$(BUILD)/bench/workloads: bench/suite/workloads.c alloc/hakmem.h | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Ialloc -fno-builtin-malloc \
	  -fno-builtin-free -fno-builtin-calloc -o $@ $< -lpthread -ldl
BENCH_DEPS += $(BUILD)/bench/workloads

# assert_probe (alloc/tests/debug.sh): the allocator sources with every
# invariant check (HAK_DEBUG=3), and the same without (HAK_DEBUG=0).
ALLOC_PROBE_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -Ialloc -I$(OBJ)/alloc \
                      -DHAK_INTERNAL_ONLY -ftls-model=initial-exec $(ALLOC_VERSION_DEF)
$(TESTBIN)/alloc/assert_probe: alloc/tests/assert_probe.c $(ALLOC_INTERNAL_SRCS) alloc/*.h $(OBJ)/alloc/build_id.h | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_PROBE_CFLAGS) -DHAK_DEBUG=3 -o $@ $< $(ALLOC_INTERNAL_SRCS) -lpthread
$(TESTBIN)/alloc/assert_probe_release: alloc/tests/assert_probe.c $(ALLOC_INTERNAL_SRCS) alloc/*.h $(OBJ)/alloc/build_id.h | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(ALLOC_PROBE_CFLAGS) -DHAK_DEBUG=0 -o $@ $< $(ALLOC_INTERNAL_SRCS) -lpthread
CHECK_DEPS += $(TESTBIN)/alloc/assert_probe $(TESTBIN)/alloc/assert_probe_release
