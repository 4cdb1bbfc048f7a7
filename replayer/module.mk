# ---- simulator and sweeps (sim_*, sweep_*; owner: the sim helper) ----------
# The model objects form libhaksim.a, linked into `hak` and the unit tests.
SIM_SRCS := replayer/sim_map.c replayer/sim_model.c replayer/sim_layout.c
SIM_OBJS := $(SIM_SRCS:%.c=$(OBJ)/%.o)

$(LIB)/libhaksim.a: $(SIM_OBJS) | $(LIB)
	ar rcs $@ $^

HAK_LIBS += $(LIB)/libhaksim.a
ALL_TARGETS += $(LIB)/libhaksim.a

SIM_TESTS := $(patsubst replayer/tests/%.c,$(TESTBIN)/replayer/%,$(wildcard replayer/tests/test_sim*.c))
$(TESTBIN)/replayer/test_sim%: replayer/tests/test_sim%.c $(LIB)/libhaksim.a $(LIB)/libhaktrace.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_BASE) -o $@ $< $(LIB)/libhaksim.a $(LIB)/libhaktrace.a $(shell pkg-config --libs cmocka libzstd) -lpthread -ldl
CHECK_DEPS += $(SIM_TESTS)
# ---- end of simulator block -------------------------------------------------
