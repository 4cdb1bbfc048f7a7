# ---- simulator and sweeps (sim_*, sweep_*; owner: the sim helper) ----------
# The model objects form libhaksim.a, linked into `hak` and the unit tests.
SIM_SRCS := replayer/sim_map.c replayer/sim_model.c replayer/sim_layout.c \
            replayer/sim_alloc.c replayer/sim_thp.c replayer/sim_run.c
SIM_OBJS := $(SIM_SRCS:%.c=$(OBJ)/%.o)

$(LIB)/libhaksim.a: $(SIM_OBJS) | $(LIB)
	ar rcs $@ $^

HAK_LIBS += $(LIB)/libhaksim.a
ALL_TARGETS += $(LIB)/libhaksim.a

SIM_TESTS := $(patsubst replayer/tests/%.c,$(TESTBIN)/replayer/%,$(wildcard replayer/tests/test_sim*.c))
$(TESTBIN)/replayer/test_sim%: replayer/tests/test_sim%.c $(LIB)/libhaksim.a $(LIB)/libhaktrace.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(LIB)/libhaksim.a $(LIB)/libhaktrace.a $(shell pkg-config --libs cmocka libzstd) -lpthread -ldl
CHECK_DEPS += $(SIM_TESTS) $(TESTBIN)/replayer/libsimbump.so
# A bump allocator .so for test_sim_run (--alloc PATH.so really serves the replay).
$(TESTBIN)/replayer/libsimbump.so: replayer/tests/sim_bump.c | deps-ok
	@mkdir -p $(dir $@)
	$(CC) -O2 -fPIC -shared -Wall -Wextra -Werror -o $@ $<
# ---- end of simulator block -------------------------------------------------
