/* xmalloc_callers: issue 17's reproducer.  One allocation wrapper reached
 * through one helper from two callers at the same stack depth: 1000
 * allocations come from f1, 3000 from f2. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void *xmalloc(size_t n) { void *p = malloc(n); if (!p) abort(); return p; }
__attribute__((noinline)) void *g(size_t n) { void *p = xmalloc(n); __asm__ volatile(""); return p; }
__attribute__((noinline)) void f1(void) { for (int i = 0; i < 1000; i++) free(g(100)); __asm__ volatile(""); }
__attribute__((noinline)) void f2(void) { for (int i = 0; i < 3000; i++) free(g(200)); __asm__ volatile(""); }
int main(void) { f1(); f2(); puts("ok"); return 0; }
