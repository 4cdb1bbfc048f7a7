#!/usr/bin/env bash
# Hostile-program cases (alloc/tests/misuse.c), each in its own child
# process under LD_PRELOAD=libhakmem.so: double and interior frees abort
# with one line naming the pointer, free-list poisoning never hands out the
# writer's address, malloc_usable_size of a non-block pointer is 0, huge
# alignments have no fixed limit, and HAKMEM_CHECK=1 catches a one-byte
# overflow and a write after free.  Then the same cases under glibc and the
# peers that are installed, side by side (informational, as TAP comments).
# HAKMEM_LIB=path tests another build of the library (e.g. an old one).
. "$(dirname "$0")/../../tests/tap.sh"
LIB=${HAKMEM_LIB:-$HAK_ROOT/build/lib/libhakmem.so}
M=$HAK_ROOT/build/tests/alloc/misuse
PEERDIR=/usr/lib/x86_64-linux-gnu

# expect SPEC CASE PATTERN: the outcome line matches PATTERN, where @PTR@
# stands for the pointer the case printed.
expect() {
  local spec=$1 case=$2 pat=$3 line ptr
  line=$("$M" --run "$spec" "$case")
  ptr=$(sed -n 's/^[^ ]* [^ ]* \[\([^]]*\)\].*/\1/p' <<<"$line")
  pat=${pat//@PTR@/$ptr}
  if [[ -n $ptr && $line =~ $pat ]]; then ok "${spec%%=*} $case: ${line#* * }"
  else not_ok "${spec%%=*} $case" "got: $line"; echo "#   wanted: $pat"; fi
}

for spec in "hakmem=$LIB" "hakmem_check=$LIB,HAKMEM_CHECK=1"; do
  for c in double_free_32 double_free_5000 double_free_1m double_free_overwrite; do
    expect "$spec" $c '\] abort: hakmem: free\(\): double free detected: @PTR@$'
  done
  expect "$spec" interior_free '\] abort: hakmem: free\(\): invalid pointer: @PTR@$'
  expect "$spec" interior_realloc '\] abort: hakmem: realloc\(\): invalid pointer: @PTR@$'
  expect "$spec" realloc_after_free '\] abort: hakmem: realloc\(\): pointer already freed: @PTR@$'
  # Either the corrupted link is caught or it is never followed (word 1
  # holds the links of blocks on slab lists: it must be caught there).
  expect "$spec" freelist_poison_word0 '\] (abort: hakmem: corrupted free list \(freed block overwritten\): 0x[0-9a-f]+|harmless: .*)$'
  expect "$spec" freelist_poison_word1 '\] abort: hakmem: corrupted free list \(freed block overwritten\): 0x[0-9a-f]+$'
  expect "$spec" usable_interior '\] harmless: malloc_usable_size\(p\+16\) = 0, of a stack buffer = 0$'
  expect "$spec" aligned_200 '\] ok: 200 of 200 '
done
# An interior pointer 6 MiB into a large block: inside its first SuperSlab
# granule when SuperSlabs are 8 MiB or more (a one-page header let free()
# read its class byte from the block: the mid-class free list was corrupted
# and the next malloc aborted, naming the wrong cause); with 2 MiB ones it
# is past the granule and ignored as a foreign pointer.
for ss in 8M 32M; do
  expect "hakmem_ss$ss=$LIB,HAKMEM_SUPERSLAB_SIZE=$ss" interior_free_large '\] abort: hakmem: free\(\): invalid pointer: @PTR@$'
  expect "hakmem_ss$ss=$LIB,HAKMEM_SUPERSLAB_SIZE=$ss" interior_realloc_large '\] abort: hakmem: realloc\(\): invalid pointer: @PTR@$'
done
expect "hakmem=$LIB" interior_free_large '\] harmless: free returned, no overlap$'
expect "hakmem=$LIB" interior_realloc_large '\] harmless: realloc returned, no overlap$'
# A block in a thread cache: the double free is found by searching the
# caches, whatever its second word holds.  Under HAKMEM_CHECK=1 (no caches)
# the block is on its slab's list with an overwritten link, not recognised
# as free, but its poisoned canary stops the second free.
expect "hakmem=$LIB" double_free_uaf_word1 '\] abort: hakmem: free\(\): double free detected: @PTR@$'
expect "hakmem_check=$LIB,HAKMEM_CHECK=1" double_free_uaf_word1 '\] abort: hakmem: free\(\): [a-z ()]+: @PTR@$'
expect "hakmem_check=$LIB,HAKMEM_CHECK=1" overflow_1byte '\] abort: hakmem: free\(\): heap overflow \(canary after block overwritten\): @PTR@$'
expect "hakmem_check=$LIB,HAKMEM_CHECK=1" write_after_free '\] abort: hakmem: malloc\(\): write after free detected in block: @PTR@$'

# Side by side with glibc and the peers (not asserted: their behaviour).
specs=("glibc=" "hakmem=$LIB" "hakmem+CHECK=$LIB,HAKMEM_CHECK=1")
for p in mimalloc:libmimalloc.so.2 jemalloc:libjemalloc.so.2 tcmalloc:libtcmalloc_minimal.so.4; do
  if [[ -e $PEERDIR/${p#*:} ]]; then specs+=("${p%%:*}=$PEERDIR/${p#*:}")
  else echo "# ${p%%:*}: $PEERDIR/${p#*:} not installed, not shown"; fi
done
"$M" --compare "${specs[@]}" | sed 's/^/# /'
