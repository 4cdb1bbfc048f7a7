/* symbolize.h - offline symbolisation of instruction pointers from a
 * trace's module map, addr2line-style.  Symbols come from the ELF files
 * read here with libc alone; demangling (libstdc++) and file:line (libdw)
 * use libraries loaded with dlopen when installed, so nothing is linked in.
 *
 * An address is first matched to a module (base <= ip < base + size); the
 * module's ELF file is then read once (mmap, bounds- and alignment-checked: a damaged or
 * foreign file just gives no symbols) and its function symbols from .symtab,
 * or .dynsym when the file is stripped, are sorted for lookup.  When the
 * trace carries a build-id and the file's NT_GNU_BUILD_ID differs, the file
 * is not the one that was running and is not used.
 *
 * Module base convention (the recorder's, recorder/rec_modules.c): `base`
 * is the load bias, dl_iterate_phdr's dlpi_addr, so an instruction pointer
 * ip is at file virtual address ip - base (for a non-PIE executable base
 * is 0); `size` is the extent from base to the end of the last PT_LOAD.
 */
#ifndef HAK_SYMBOLIZE_H
#define HAK_SYMBOLIZE_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

typedef struct hak_symbolizer hak_symbolizer;

/* The modules array must outlive the symboliser. NULL on out of memory. */
hak_symbolizer *hak_sym_new(const hak_module *mods, size_t n);
void hak_sym_free(hak_symbolizer *s);

/* With on = 1, C++ names (_Z...) are demangled with libstdc++'s
 * __cxa_demangle, loaded with dlopen("libstdc++.so.6") on first use (the
 * library itself links no C++ runtime), once per distinct name.  Silently
 * off when libstdc++ is not installed: hak_sym_demangling() then says 0.
 * Off by default. */
void hak_sym_demangle(hak_symbolizer *s, int on);
int hak_sym_demangling(const hak_symbolizer *s);

/* Formats ip as "func+0x1a (libfoo.so)", "libfoo.so+0x1234" when the module
 * has no symbol there, or "0x7f..." when no module covers it.  Returns buf. */
const char *hak_sym_format(hak_symbolizer *s, uint64_t ip, char *buf, size_t len);

/* Source lines from DWARF: with on = 1, hak_sym_srcline gives "file:line"
 * of a frame, read with elfutils' libdw (libdw.so.1, loaded with dlopen on
 * first use; off when it is not installed: hak_sym_lines_on() then says 0)
 * from the module's own .debug_line or its separate debug file (found by
 * build-id under /usr/lib/debug/.build-id/, by .gnu_debuglink next to the
 * file, in .debug/ or /usr/lib/debug).  Frames are return addresses, so
 * the line is the call's (ip - 1).  NULL when the module is missing,
 * another build (build-id), or has no line table there.  Off by default. */
void hak_sym_lines(hak_symbolizer *s, int on);
int hak_sym_lines_on(const hak_symbolizer *s);
const char *hak_sym_srcline(hak_symbolizer *s, uint64_t ip, char *buf, size_t len);

/* One recorded frame as the frames it stands for: with lines on and DWARF
 * there, first each function inlined at ip (innermost first: its name,
 * demangled, and the location inside it, inlined = 1), then the frame
 * itself as hak_sym_format shows it with the location of the call it
 * makes (inlined = 0); loc is "file:line" or NULL.  Returns the count. */
typedef void (*hak_sym_frame_fn)(void *ctx, const char *frame, const char *loc, int inlined);
int hak_sym_frames(hak_symbolizer *s, uint64_t ip, hak_sym_frame_fn fn, void *ctx);

/* For a trace recorded on another machine: module files are looked up as
 * SYSROOT/path (sysroot NULL or "": as recorded), and libdw looks for
 * separate debug files next to the file, in its .debug/, under DEBUG_DIR
 * (a tree like /usr/lib/debug: .build-id/xx/rest.debug, or the file's own
 * path) and SYSROOT/usr/lib/debug.  With lines on, names of functions a
 * stripped file has only in its debug file come from there too.  Call
 * before any lookup.  0, or -1 out of memory. */
int hak_sym_paths(hak_symbolizer *s, const char *sysroot, const char *debug_dir);

/* The function alone, for keys that must not depend on code layout
 * (flame graphs, diffs of two builds): "func" (with_module: "func (libfoo.so)"),
 * else the same fallbacks as hak_sym_format.  Returns buf. */
const char *hak_sym_func(hak_symbolizer *s, uint64_t ip, int with_module, char *buf, size_t len);

/* Whether module i can be symbolised (loads it if needed); *nsyms gets the
 * number of function symbols when not NULL. */
enum { HAK_SYM_OK, HAK_SYM_MISSING, HAK_SYM_NOT_ELF, HAK_SYM_BUILD_ID_DIFFERS,
       HAK_SYM_NO_SYMBOLS };
int hak_sym_status(hak_symbolizer *s, size_t i, size_t *nsyms);
const char *hak_sym_status_name(int status);

#endif
