# dist/: installing hakmem like a Debian tool.
#   make install   [PREFIX=/usr/local] [DESTDIR=]   binaries, libraries,
#                  hakmem.h, hakmem.pc, man pages made from the --help
#                  texts, bash completion, the docs
#   make uninstall (same PREFIX/DESTDIR) removes exactly what install put
# The installed hak finds its worker, libhakmem.so and libhakrec.so the way
# the build tree's does: BIN/../lib, so LIBDIR is PREFIX/lib.
PREFIX     ?= /usr/local
DESTDIR    ?=
BINDIR     := $(PREFIX)/bin
LIBDIR     := $(PREFIX)/lib
INCLUDEDIR := $(PREFIX)/include
MANDIR     := $(PREFIX)/share/man/man1
DOCDIR     := $(PREFIX)/share/doc/hakmem
COMPDIR    := $(PREFIX)/share/bash-completion/completions

INSTALL_BINS := hak hak-replay-worker
INSTALL_LIBS := libhakmem.so libhakmem.a libhakrec.so
INSTALL_DOCS := README.md alloc/KNOBS.md $(wildcard docs/*.md)

$(BUILD)/man/.stamp: $(BIN)/hak analysis/hak/gen_man.sh
	rm -rf $(BUILD)/man && sh analysis/hak/gen_man.sh $(BIN)/hak $(BUILD)/man $(HAK_VERSION_STR) && touch $@

$(BUILD)/dist/hakmem.pc: alloc/hakmem.pc.in FORCE
	@mkdir -p $(dir $@)
	@sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	     -e 's|@VERSION@|$(HAK_VERSION_STR)|' $< > $@.tmp && mv $@.tmp $@

.PHONY: install uninstall
install: all $(BUILD)/man/.stamp $(BUILD)/dist/hakmem.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	  $(DESTDIR)$(MANDIR) $(DESTDIR)$(DOCDIR) $(DESTDIR)$(COMPDIR)
	install -m 755 $(addprefix $(BIN)/,$(INSTALL_BINS)) $(DESTDIR)$(BINDIR)/
	install -m 644 $(addprefix $(LIB)/,$(filter %.a,$(INSTALL_LIBS))) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(addprefix $(LIB)/,$(filter %.so,$(INSTALL_LIBS))) $(DESTDIR)$(LIBDIR)/
	install -m 644 alloc/hakmem.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(BUILD)/dist/hakmem.pc $(DESTDIR)$(LIBDIR)/pkgconfig/
	install -m 644 $(BUILD)/man/*.1 $(DESTDIR)$(MANDIR)/
	install -m 644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/
	install -m 644 analysis/hak/hak.bash-completion $(DESTDIR)$(COMPDIR)/hak

uninstall:
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(INSTALL_BINS)) \
	      $(addprefix $(DESTDIR)$(LIBDIR)/,$(INSTALL_LIBS)) \
	      $(DESTDIR)$(INCLUDEDIR)/hakmem.h $(DESTDIR)$(LIBDIR)/pkgconfig/hakmem.pc \
	      $(DESTDIR)$(COMPDIR)/hak $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS)))
	rm -f $(DESTDIR)$(MANDIR)/hak.1 $(DESTDIR)$(MANDIR)/hak-*.1
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null || true
