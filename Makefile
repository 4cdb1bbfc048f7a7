# hakmem top-level build.  `make` builds everything into build/; `make check`
# runs every test; `make demo` runs the main job end to end; `make bench`
# measures speed targets into the SQLite DB and bench/RESULTS.md.
#
# Each component lives in its own directory with a module.mk that appends to
# the variables below and owns the rules for its own files.  Objects are
# always built -fPIC so the same archive links into `hak` and into the
# LD_PRELOAD libraries.

.DEFAULT_GOAL := all
SHELL := /bin/bash

BUILD   := build
BIN     := $(BUILD)/bin
LIB     := $(BUILD)/lib
OBJ     := $(BUILD)/obj
TESTBIN := $(BUILD)/tests

CC      ?= cc
OPT     ?= -O2
CFLAGS_BASE := -std=gnu11 $(OPT) -g -fPIC -Wall -Wextra -Werror -D_GNU_SOURCE
# Internal checks: HAK_DEBUG=1 turns on HAK_CHECK (traces/common/hak_check.h)
# in the lab's code, REC_ASSERT in the recorder and level 1 of the
# allocator's hak_assert (HAK_DEBUG=2, 3: more of the allocator's); `make
# debug` builds everything so into build/debug/.
HAK_DEBUG ?= 0

# ---- Layers (docs/ARCHITECTURE.md) -------------------------------------
# common -> trace lib -> store -> queries | recorder | replay worker | replay | sim
#        -> commands (traces/cli, analysis/cli, recorder/cli, replayer/cli) -> hak
# A module is a folder.  USES_<module> lists the modules whose public
# headers it may include (transitively closed by hand: each list names
# every module below it that it uses).  A module's sources compile with
# -I for itself and its USES only, so including a higher layer's header
# does not compile; PRIVATE_<module> names headers no other module may
# include (tests/static/check-layers checks both, and the table itself).
# The allocator (alloc/) depends on libc only and has its own flags.
MODULES := traces/common traces/lib analysis/store analysis/query recorder replayer/common \
           replayer/worker replayer/replay replayer/sim \
           traces/cli analysis/cli recorder/cli replayer/cli analysis/hak alloc
USES_traces/common   :=
USES_traces/lib      := traces/common
USES_analysis/store  := traces/lib traces/common
USES_analysis/query  := analysis/store traces/lib traces/common
USES_recorder        := traces/lib traces/common
USES_replayer/common := traces/lib traces/common
USES_replayer/worker := replayer/common traces/lib traces/common alloc
USES_replayer/replay := replayer/worker replayer/common analysis/store traces/lib traces/common alloc
USES_replayer/sim    := replayer/common analysis/store traces/lib traces/common
USES_traces/cli      := traces/lib traces/common
USES_analysis/cli    := analysis/query analysis/store traces/lib traces/common
USES_recorder/cli    := recorder traces/lib traces/common
USES_replayer/cli    := replayer/replay replayer/sim replayer/worker replayer/common alloc \
                        analysis/query analysis/store traces/lib traces/common
USES_analysis/hak    := replayer/cli recorder/cli analysis/cli traces/cli replayer/replay \
                        replayer/sim replayer/worker replayer/common recorder analysis/query analysis/store \
                        traces/lib traces/common alloc
USES_alloc           :=
# Headers private to their module (internal formats and state).
PRIVATE_traces/lib     := trace_codec.h trace_encref.h trace_encstk.h trace_enctok.h trace_fmt.h
PRIVATE_analysis/store := hakdb_int.h hakdb_migrations.h
PRIVATE_recorder       := rec_internal.h rec_cfi.h
PRIVATE_alloc          := hak_internal.h
# Generated headers a module's sources include (directories under build/).
GENERATED_traces/lib   = $(BUILD)/gen/traces/lib
GENERATED_traces/cli   = $(BUILD)/gen/traces/lib
module_of       = $(patsubst %/,%,$(dir $(1)))
module_includes = $(foreach m,$(1) $(USES_$(1)),-I$(m)) $(foreach g,$(GENERATED_$(1)),-I$(g))
# White-box builds (unit tests, fuzzers, benches) see every module.
CFLAGS_WB = $(CFLAGS_BASE) $(foreach m,$(MODULES),-I$(m))
# Packages the build needs; pkg-config name -> Debian package.
PKG_MODULES  := libzstd sqlite3 libunwind cmocka libdw libprotobuf-c zlib
DEB_PACKAGES := pkg-config libzstd-dev libsqlite3-dev libunwind-dev libcmocka-dev libdw-dev sqlite3 zstd \
                libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
# Peer allocators the tests, demo and bench compare against, golang-go
# (go tool pprof reads back hak trace export --pprof) and
# chromium-headless-shell (runs the HTML report's flame graph zoom);
# optional: tests that need one skip with a reason when it cannot be installed
# (installed one by one if all at once fails: one missing from a release
# must not stop the others).
PEER_PACKAGES := libmimalloc2.0 libjemalloc2 libtcmalloc-minimal4 golang-go chromium-headless-shell
PEER_LIBS     := /usr/lib/x86_64-linux-gnu/libmimalloc.so.2 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 \
                 /usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4 /usr/bin/go \
                 /usr/bin/chromium-headless-shell

# The version, in one place (traces/common/hak_util.h: HAK_VERSION); the
# allocator, which includes nothing of ours, gets it as -DHAKMEM_VERSION.
HAK_VERSION_STR := $(shell sed -n 's/^\#define HAK_VERSION "\(.*\)"/\1/p' traces/common/hak_util.h)

# Filled in by the module.mk files.
ALL_TARGETS :=   # everything `make` builds
HAK_OBJS    :=   # objects linked into build/bin/hak
HAK_LIBS    :=   # static archives linked into hak (order: dependents first)
CHECK_DEPS  :=   # test binaries and fixtures `make check` needs built
BENCH_DEPS  :=   # binaries `make bench` needs built

include traces/module.mk analysis/module.mk recorder/module.mk replayer/module.mk alloc/module.mk \
        analysis/hak/install.mk

# Recursive (=) so pkg-config runs after deps-ok has installed packages.
HAK_LDLIBS = $(shell pkg-config --libs libzstd sqlite3 libprotobuf-c zlib) -lpthread -lm -ldl

$(BIN)/hak: $(HAK_OBJS) $(HAK_LIBS) | $(BIN)
	$(CC) $(CFLAGS_BASE) -o $@ $(HAK_OBJS) $(HAK_LIBS) $(HAK_LDLIBS)

ALL_TARGETS += $(BIN)/hak

# Generic compile rule: source path mirrors object path.
$(OBJ)/%.o: %.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -DHAK_DEBUG=$(HAK_DEBUG) $(call module_includes,$(call module_of,$*)) \
	  $(CFLAGS_$(firstword $(subst /, ,$*))) -MMD -MP -c -o $@ $<

$(BIN) $(LIB) $(TESTBIN):
	@mkdir -p $@

.PHONY: all check stress demo bench fuzz clean deps-ok peers-ok print-layers debug
# Everything with its internal checks on (HAK_CHECK, REC_ASSERT,
# hak_assert level 1), unoptimised enough to debug, in build/debug/.
debug:
	$(MAKE) BUILD=build/debug HAK_DEBUG=1 OPT=-O1 all
# The layer table, one module per line (read by tests/static/check-layers).
print-layers:
	@$(foreach m,$(MODULES),echo '$(m): uses $(USES_$(m)); private $(PRIVATE_$(m))';)
all: $(ALL_TARGETS)

# Runs every test (unit tests in C via cmocka, end-to-end shell tests) and
# ends with "N passed, N failed[, N skipped]".
check: all $(CHECK_DEPS) | peers-ok
	@tests/run.sh

# The long campaigns (tests/stress/*.sh: thousands of recordings of racy
# and hostile programs); same runner and closing line as check.
stress: all $(CHECK_DEPS) | peers-ok
	@HAK_STRESS=1 HAK_TEST_TIMEOUT=$${HAK_TEST_TIMEOUT:-14400} tests/run.sh

demo: all | peers-ok
	@bench/demo.sh

bench: all $(BENCH_DEPS) | peers-ok
	@bench/run.sh

clean:
	rm -rf $(BUILD)

# Installs missing build dependencies from Debian on a fresh machine (as
# root), or names the packages to install otherwise.
deps-ok:
	@if ! pkg-config --exists $(PKG_MODULES) 2>/dev/null || ! command -v sqlite3 >/dev/null \
	    || ! command -v protoc-c >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "hakmem: installing build dependencies: $(DEB_PACKAGES)"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq >/dev/null && apt-get install -y -qq $(DEB_PACKAGES) >/dev/null \
	      || { echo "hakmem: apt-get install failed" >&2; exit 1; }; \
	  else \
	    echo "hakmem: missing build dependencies; install them with:" >&2; \
	    echo "  sudo apt-get install $(DEB_PACKAGES)" >&2; exit 1; \
	  fi; \
	fi

# Best effort: installs the peer allocators when root with apt-get; never
# fails the build (what needs a missing peer skips and says so).
# After deps-ok: two apt-gets at once (make -j) fail on dpkg's lock.
peers-ok: deps-ok
	@missing=0; for f in $(PEER_LIBS); do [ -e "$$f" ] || missing=1; done; \
	if [ $$missing = 1 ] && [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "hakmem: installing peer allocators and test tools: $(PEER_PACKAGES)"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq $(PEER_PACKAGES) >/dev/null 2>&1 || { \
	    apt-get update -qq >/dev/null 2>&1; \
	    for p in $(PEER_PACKAGES); do \
	      apt-get install -y -qq $$p >/dev/null 2>&1 \
	        || echo "hakmem: could not install $$p; tests that need it will skip"; \
	    done; }; \
	fi; true

-include $(shell find $(OBJ) -name '*.d' 2>/dev/null)
