# traces/lib/pprof.mk (included by traces/module.mk): `hak trace export
# --pprof`.  profile.proto is turned into C by protoc-c (Debian's
# protobuf-c-compiler) at build time, into build/gen/; the encoder links
# libprotobuf-c and zlib (Makefile: PKG_MODULES, DEB_PACKAGES).  Linked
# into hak only, not into libhaktrace.a, so the library's other users
# (tests, fuzzers, the replayer's tools) need neither.
PPROF_GEN := $(BUILD)/gen/traces/lib
PPROF_PB  := $(PPROF_GEN)/profile.pb-c.c $(PPROF_GEN)/profile.pb-c.h

$(PPROF_GEN)/profile.pb-c.c: traces/lib/profile.proto | deps-ok
	@mkdir -p $(PPROF_GEN)
	protoc-c --proto_path=traces/lib --c_out=$(PPROF_GEN) traces/lib/profile.proto
$(PPROF_GEN)/profile.pb-c.h: $(PPROF_GEN)/profile.pb-c.c

$(OBJ)/gen/profile.pb-c.o: $(PPROF_PB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_WB) -I$(PPROF_GEN) -c -o $@ $<
$(OBJ)/traces/lib/pprof_out.o $(OBJ)/traces/cli/cli_export.o: $(PPROF_GEN)/profile.pb-c.h

HAK_OBJS += $(OBJ)/gen/profile.pb-c.o $(OBJ)/traces/lib/pprof_out.o $(OBJ)/traces/cli/cli_export.o
