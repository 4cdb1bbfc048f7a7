# analysis/: the `hak` dispatcher, the run-history database library
# (libhakdb.a: hakdb.h over SQLite, schema migrations embedded at build
# time), `hak db`, `hak report`, schema and queries.
HAK_OBJS += $(OBJ)/analysis/hak/hak_main.o

HAKDB_SRCS := analysis/store/hakdb.c analysis/store/hakdb_write.c analysis/store/hakdb_machine.c
# a trace's statistics and memory-profiler views (hak db import-trace),
# merging histories (hak db merge), hak validate's tables (issue 19)
HAKDB_SRCS += analysis/store/hakdb_import.c analysis/store/hakdb_import_views.c analysis/store/hakdb_sweep.c \
              analysis/store/hakdb_merge.c analysis/store/hakdb_validation.c
HAKDB_MIGRATIONS := $(sort $(wildcard analysis/store/migrations/*.sql))
HAKDB_GEN := $(BUILD)/gen/analysis/hakdb_migrations.c
HAKDB_OBJS := $(HAKDB_SRCS:%.c=$(OBJ)/%.o) $(OBJ)/gen/analysis/hakdb_migrations.o

# The migrations become a C array (od + sed, no extra tools).
$(HAKDB_GEN): $(HAKDB_MIGRATIONS) analysis/store/gen_migrations.sh
	@mkdir -p $(dir $@)
	sh analysis/store/gen_migrations.sh $@ $(HAKDB_MIGRATIONS)
$(OBJ)/gen/analysis/hakdb_migrations.o: $(HAKDB_GEN) analysis/store/hakdb_migrations.h | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -c -o $@ $<

$(LIB)/libhakdb.a: $(HAKDB_OBJS) | $(LIB)
	rm -f $@ && ar rcs $@ $^

# libhakdb uses the trace library (and hak_hash64 from libhakcommon), so it comes first.
HAK_LIBS := $(LIB)/libhakdb.a $(HAK_LIBS)
ALL_TARGETS += $(LIB)/libhakdb.a

# Unit tests: analysis/tests/test_*.c, linked against libhakdb + libhaktrace.
ANALYSIS_TESTS := $(patsubst analysis/tests/%.c,$(TESTBIN)/analysis/%,$(wildcard analysis/tests/test_*.c))
$(TESTBIN)/analysis/%: analysis/tests/%.c $(LIB)/libhakquery.a $(LIB)/libhakdb.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(LIB)/libhakquery.a $(LIB)/libhakdb.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a \
	  $(shell pkg-config --libs cmocka sqlite3 libzstd) -lpthread -lm
CHECK_DEPS += $(ANALYSIS_TESTS)

# The questions over the run history that several commands ask
# (analysis/query: settings grouped with their statistics, the best one
# per trace, the SQL vocabulary of traces, builds and modes).
QUERY_SRCS := analysis/query/db_metric.c analysis/query/db_stats.c analysis/query/db_group.c \
              analysis/query/db_best.c
$(LIB)/libhakquery.a: $(QUERY_SRCS:%.c=$(OBJ)/%.o) | $(LIB)
	rm -f $@ && ar rcs $@ $^
HAK_LIBS := $(LIB)/libhakquery.a $(HAK_LIBS)
ALL_TARGETS += $(LIB)/libhakquery.a

# `hak db` and `hak report`.
ANALYSIS_CLI := db_cli db_runs db_compare db_match db_query db_merge db_import \
                db_table db_util report report_html report_svg
HAK_OBJS += $(ANALYSIS_CLI:%=$(OBJ)/analysis/cli/%.o)
HAK_OBJS += $(OBJ)/analysis/cli/report_validation.o   # hak validate's results (issue 19)
HAK_OBJS += $(OBJ)/analysis/cli/report_profile.o    # ...and their part of hak report
HAK_OBJS += $(OBJ)/analysis/cli/report_timeline.o   # memory over time per call site

# Test tools (not run as tests themselves): the known-content fixture DB.
ANALYSIS_TEST_OBJS := $(OBJ)/analysis/cli/db_table.o $(OBJ)/analysis/cli/db_util.o \
                      $(OBJ)/analysis/cli/db_match.o $(LIB)/libhakquery.a
$(TESTBIN)/analysis/gen_fixture: analysis/tests/gen_fixture.c $(ANALYSIS_TEST_OBJS) $(LIB)/libhakdb.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a | deps-ok
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -o $@ $< $(ANALYSIS_TEST_OBJS) $(LIB)/libhakdb.a $(LIB)/libhaktrace.a $(LIB)/libhakcommon.a \
	  $(shell pkg-config --libs sqlite3 libzstd) -lpthread -lm
CHECK_DEPS += $(TESTBIN)/analysis/gen_fixture
BENCH_DEPS += $(TESTBIN)/analysis/gen_fixture   # bench/db.bench.sh builds its 100k-run DB from it
