#!/usr/bin/env bash
# make install / uninstall into a temporary root (DESTDIR + PREFIX): the
# installed hak runs and replays with the installed libhakmem, a program
# builds against the installed libhakmem through pkg-config, the man pages
# render, and uninstall leaves nothing behind.  Also --version on every
# subcommand.
. "$(dirname "$0")/../../tests/tap.sh"
root=$TMP/root
make -s -C "$HAK_ROOT" install DESTDIR="$root" PREFIX=/usr >"$TMP/install.log" 2>&1
check "make install DESTDIR=... PREFIX=/usr succeeds" test -x "$root/usr/bin/hak"
for f in usr/bin/hak-replay-worker usr/lib/libhakmem.so usr/lib/libhakmem.a usr/lib/libhakrec.so \
         usr/include/hakmem.h usr/lib/pkgconfig/hakmem.pc usr/share/man/man1/hak.1 \
         usr/share/man/man1/hak-record.1 usr/share/man/man1/hak-db-compare.1 \
         usr/share/bash-completion/completions/hak usr/share/doc/hakmem/README.md; do
  check "installed: /$f" test -s "$root/$f"
done
H=$root/usr/bin/hak
check "installed hak --version" bash -c "'$H' --version | grep -qx 'hak [0-9.]*'"
hak trace synth random-mixed --iters 5000 -o "$TMP/rm.hkt" >/dev/null
check "installed hak replays with the installed libhakmem (and its worker)" \
  env HAK_REPLAY_MIN_TIME=0 "$H" replay "$TMP/rm.hkt" --alloc hakmem --db "$TMP/i.db" -q
check "... the run used $root/usr/lib/libhakmem.so" \
  bash -c "[[ \$(sqlite3 '$TMP/i.db' 'select path from builds') == '$root/usr/lib/libhakmem.so' ]]"
if command -v pkg-config >/dev/null && command -v cc >/dev/null; then
  cat > "$TMP/use.c" <<'C'
#include <hakmem.h>
#include <stdio.h>
#include <string.h>
int main(void)
{
    char *p = hak_malloc(100);
    if (!p) return 1;
    strcpy(p, "hello from libhakmem");
    puts(p);
    hak_free(p);
    return 0;
}
C
  export PKG_CONFIG_PATH=$root/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$root
  check "pkg-config finds hakmem" pkg-config --exists hakmem
  check "a program compiles and links against it via pkg-config" \
    bash -c "cc \$(pkg-config --cflags hakmem) -o '$TMP/use' '$TMP/use.c' \$(pkg-config --libs hakmem)"
  check "... and runs with the installed library" \
    bash -c "LD_LIBRARY_PATH='$root/usr/lib' '$TMP/use' | grep -qx 'hello from libhakmem' && LD_LIBRARY_PATH='$root/usr/lib' ldd '$TMP/use' | grep -q '$root/usr/lib/libhakmem.so'"
  unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
else
  skip "pkg-config build" "no pkg-config or cc"
fi
if command -v man >/dev/null; then
  check "hak-replay(1) renders" bash -c "MANWIDTH=80 man -l '$root/usr/share/man/man1/hak-replay.1' 2>/dev/null | grep -q 'min-time'"
else
  skip "man page renders" "no man"
fi
make -s -C "$HAK_ROOT" uninstall DESTDIR="$root" PREFIX=/usr >>"$TMP/install.log" 2>&1
check "make uninstall removes every installed file" bash -c "[[ -z \$(find '$root' -type f) ]]"

# --version on every command and subcommand.
for c in record replay sim sweep report db trace "db runs" "db compare" "db best" "db query" \
         "db merge" "trace info" "trace stats" "trace synth" "trace validate"; do
  check "hak $c --version" bash -c "hak $c --version | grep -qx 'hak [0-9.]*'"
done
check "hak record PROGRAM --version is the program's --version" \
  bash -c "hak record -q -o '$TMP/v.hkt' -- /bin/echo --version | grep -qv '^hak '"
