/* hak_check.c - the abort on misuse, the exact "is this block free" search
 * behind free()'s double-free check, and HAKMEM_CHECK=1's expensive checks.
 *
 * hak_misuse prints one line, "hakmem: WHAT: 0xPOINTER", with write(2) (no
 * stdio: the heap may be what is broken) and aborts, like glibc's
 * "free(): double free detected".
 *
 * HAKMEM_CHECK=1 turns the thread caches off (every malloc and free takes
 * a slow path) and then:
 *  - each block gets CHECK_PAD extra bytes: after the program's n bytes
 *    come canary bytes up to the block's last word, which holds n encoded
 *    with the block address and the link secret (large blocks: 16 canary
 *    bytes after n, n in the header); free() verifies both and aborts on
 *    an overflow; malloc_usable_size() says n;
 *  - a freed slab block is filled with a poison byte past its two link
 *    words, and verified when a malloc takes it from the free list again:
 *    a write after free aborts there.
 * Bump-carved blocks were never freed and are not verified.
 */
#include "hak_guard.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#define CANARY 0xA5
#define POISON 0xDF

void hak_misuse(const char *what, const void *p)
{
    char line[160];
    size_t n = 0;
    const char *pre = "hakmem: ";
    for (const char *s = pre; *s && n < 100; s++) line[n++] = *s;
    for (const char *s = what; *s && n < 120; s++) line[n++] = *s;
    line[n++] = ':';
    line[n++] = ' ';
    line[n++] = '0';
    line[n++] = 'x';
    uintptr_t v = (uintptr_t)p;
    int started = 0;
    for (int sh = 60; sh >= 0; sh -= 4) {
        unsigned d = (unsigned)(v >> sh) & 15;
        if (!d && !started && sh) continue;
        started = 1;
        line[n++] = "0123456789abcdef"[d];
    }
    line[n++] = '\n';
    ssize_t r = write(2, line, n);
    (void)r;
    abort();
}

/* hak_assert.h's failure report: one line, write(2), abort. */
static size_t put(char *line, size_t n, size_t cap, const char *s)
{
    while (*s && n + 1 < cap) line[n++] = *s++;
    return n;
}

void hak_assert_fail(const char *expr, const char *file, int lineno, const char *func)
{
    char line[512], num[12];
    size_t n = 0, k = sizeof num;
    num[--k] = 0;
    unsigned v = lineno > 0 ? (unsigned)lineno : 0;
    do { num[--k] = (char)('0' + v % 10); v /= 10; } while (v && k);
    n = put(line, n, sizeof line, "hakmem: assertion failed: ");
    n = put(line, n, sizeof line, expr);
    n = put(line, n, sizeof line, " (");
    n = put(line, n, sizeof line, file);
    n = put(line, n, sizeof line, ":");
    n = put(line, n, sizeof line, num + k);
    n = put(line, n, sizeof line, " ");
    n = put(line, n, sizeof line, func);
    n = put(line, n, sizeof line, ")");
    line[n++] = '\n';
    ssize_t r = write(2, line, n);
    (void)r;
    abort();
}

/* Free means: in some thread's cache, or on the slab's local free list or
 * remote queue.  free()'s fast path does not record a cached block's slot
 * (a store per free), so the live part of the class's bin is searched: the
 * calling thread's first, newest entry first (a double free usually
 * follows the first free closely), then the other threads' (read without
 * their owner's cooperation, under the global lock: a heap leaves the
 * registry under it before its arrays are unmapped; skipped when this
 * thread's heap is the only one).  At most cap (HAKMEM_TCACHE) entries per
 * heap, and only for a free that finds the mark.  The lists are walked
 * only when the second word decodes to a link within the slab, as it
 * always does on a list; walks validate every link and take at most
 * capacity steps.  A block being moved between a cache and its slab by
 * another thread at this very moment can be missed, so two threads racing
 * to free the same block may escape; a program's ordered frees never do
 * (nor does a listed block whose second word a use after free overwrote:
 * its list aborts when it reaches it). */
static int list_has(const hak_slab *s, const void *head, const void *p)
{
    const void *q = head;
    for (uint32_t k = 0; q && k <= s->capacity; k++) {
        if (q == p) return 1;
        q = hak_link_get(q);
        if (q && !hak_slab_has(s, q)) return 0;
    }
    return 0;
}

/* 1 if bin cls of heap h holds p among its live entries, newest first (a
 * double free usually follows the first free closely). */
static int cache_holds(hak_heap *h, unsigned cls, const void *p)
{
    hak_bin *b = &h->bins[cls];
    void **top = __atomic_load_n(&b->top, __ATOMIC_ACQUIRE);
    uint32_t n = (hak_lo32(top) - b->empty_lo) / (uint32_t)sizeof(void *);
    if (!top || n > hak_bin_cap(b)) return 0;
    /* A live block whose first word the program set to the mark's value
     * searches the whole live part: 8 entries per step with SSE2 (which has no
     * 64-bit compare: both 32-bit halves must match). */
    void *const *q = (void *const *)top;
#ifdef __SSE2__
    __m128i v = _mm_set1_epi64x((long long)(uintptr_t)p);
    for (; n >= 8; n -= 8) {
        q -= 8;
        __m128i hit = _mm_setzero_si128();
        for (unsigned i = 0; i < 8; i += 2) {
            __m128i e = _mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(q + i)), v);
            hit = _mm_or_si128(hit, _mm_and_si128(e, _mm_shuffle_epi32(e, 0xb1)));
        }
        if (_mm_movemask_epi8(hit)) return 1;
    }
#endif
    while (n--)
        if (*--q == p) return 1;
    return 0;
}

int hak_block_is_free(hak_ss *ss, void *p, unsigned cls)
{
    hak_heap *me = &hak_tls_heap;
    if (me->state == HEAP_ACTIVE && cache_holds(me, cls, p)) return 1;
    /* (A heap registered after this read belongs to a thread whose frees
     * are not ordered before this one: a race, see above.) */
    hak_heap *first = __atomic_load_n(&hak_heaps, __ATOMIC_ACQUIRE);
    if (first && (first != me || __atomic_load_n(&first->reg_next, __ATOMIC_ACQUIRE))) {
        int found = 0;
        hak_lock();
        for (hak_heap *h = hak_heaps; h && !found; h = h->reg_next)
            if (h != me) found = cache_holds(h, cls, p);
        hak_unlock();
        if (found) return 1;
    }
    const hak_slab *s = hak_slab_of(ss, p);
    void *next = hak_link_get(p);
    if (next && !hak_slab_has(s, next)) return 0;
    return list_has(s, __atomic_load_n(&s->free, __ATOMIC_ACQUIRE), p) ||
           list_has(s, hak_rq_ptr(atomic_load_explicit(&s->remote, memory_order_acquire)), p);
}

static uint64_t trailer_of(const void *p, size_t n)
{
    uint64_t k = (uintptr_t)p ^ hak_cfg.link_secret;
    return (uint64_t)n ^ ((k << 32) | (k >> 32));
}

static int all_bytes(const unsigned char *c, size_t len, unsigned char v)
{
    for (size_t i = 0; i < len; i++)
        if (c[i] != v) return 0;
    return 1;
}

/* Requested size of checked slab block p of block size b, or (size_t)-1
 * when the trailer was overwritten. */
static size_t slab_req(const void *p, size_t b)
{
    uint64_t t;
    memcpy(&t, (const char *)p + b - 8, 8);
    uint64_t n = t ^ trailer_of(p, 0);
    if (n > b - 8) return (size_t)-1;
    if (!all_bytes((const unsigned char *)p + n, b - 8 - n, CANARY)) return (size_t)-1;
    return (size_t)n;
}

void hak_check_arm(void *p, size_t n)
{
    hak_ss *ss = hak_ss_of(p);
    if (!ss) return;                     /* huge-aligned block: unchecked */
    if (ss->magic == HAK_LARGE_MAGIC) {
        ss->req_size = n;
        memset((char *)p + n, CANARY, HAK_CHECK_PAD);
        return;
    }
    size_t b = hak_cfg.cls_size[ss->unit_cls[((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift]];
    memset((char *)p + n, CANARY, b - 8 - n);
    uint64_t t = trailer_of(p, n);
    memcpy((char *)p + b - 8, &t, 8);
}

size_t hak_check_size(const hak_ss *ss, const void *p)
{
    if (ss->magic == HAK_LARGE_MAGIC) return ss->req_size;
    size_t b = hak_cfg.cls_size[ss->unit_cls[((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift]];
    size_t n = slab_req(p, b);
    return n == (size_t)-1 ? 0 : n;
}

void hak_check_free(const hak_ss *ss, void *p)
{
    if (ss->magic == HAK_LARGE_MAGIC) {
        if (!all_bytes((const unsigned char *)p + ss->req_size, HAK_CHECK_PAD, CANARY))
            hak_misuse("free(): heap overflow (canary after block overwritten)", p);
        return;
    }
    size_t b = hak_cfg.cls_size[ss->unit_cls[((uintptr_t)p - (uintptr_t)ss) >> hak_cfg.slab_shift]];
    if (slab_req(p, b) == (size_t)-1)
        hak_misuse("free(): heap overflow (canary after block overwritten)", p);
    memset((char *)p + 16, POISON, b - 16);
}

void hak_check_reuse(void *p, size_t b)
{
    if (!all_bytes((const unsigned char *)p + 16, b - 16, POISON))
        hak_misuse("malloc(): write after free detected in block", p);
}
