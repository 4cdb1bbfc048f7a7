/* factor - the recorder benchmark's "number-factoring kind" of program:
 * allocation-heavy with deep-ish, varied call stacks.  For each number in
 * [START, START + COUNT) it factors the number by recursive splitting
 * (each level a frame; a number with k prime factors recurses k levels),
 * collects the factors in a growable vector (xmalloc/xrealloc wrappers
 * under vec_push), formats them into a string built piece by piece
 * (strbuf_append -> xrealloc), and keeps the last few results in a small
 * ring of heap records.  So allocations come from a handful of wrappers
 * reached from many stacks, through 6-12 frames of the program.
 * Prints a checksum.
 *
 * usage: factor [COUNT (default 2000000)] [START (default 1000000)]
 * A bad argument is a one-line error naming it, exit 2. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

NOINLINE static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        fputs("factor: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

NOINLINE static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n);
    if (!p) {
        fputs("factor: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

typedef struct vec { uint64_t *v; size_t n, cap; } vec;

NOINLINE static vec *vec_new(void)
{
    vec *a = xmalloc(sizeof *a);
    a->n = 0;
    a->cap = 2;
    a->v = xmalloc(a->cap * sizeof *a->v);
    return a;
}

NOINLINE static void vec_push(vec *a, uint64_t x)
{
    if (a->n == a->cap) {
        a->cap *= 2;
        a->v = xrealloc(a->v, a->cap * sizeof *a->v);
    }
    a->v[a->n++] = x;
}

static void vec_free(vec *a)
{
    free(a->v);
    free(a);
}

NOINLINE static uint64_t smallest_divisor(uint64_t n)
{
    if (n % 2 == 0)
        return 2;
    for (uint64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return d;
    return n;
}

/* Splits n at its smallest divisor and recurses on both halves; each
 * prime found is pushed, and each split keeps a scratch record. */
NOINLINE static void factor_rec(uint64_t n, vec *out)
{
    if (n < 2)
        return;
    uint64_t d = smallest_divisor(n);
    if (d == n) {
        vec_push(out, n);
        return;
    }
    uint64_t *scratch = xmalloc(2 * sizeof *scratch);
    scratch[0] = d;
    scratch[1] = n / d;
    factor_rec(scratch[0], out);
    factor_rec(scratch[1], out);
    free(scratch);
}

typedef struct strbuf { char *s; size_t n, cap; } strbuf;

NOINLINE static void strbuf_append(strbuf *b, const char *t, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        b->cap = (b->n + len + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->n, t, len);
    b->n += len;
    b->s[b->n] = 0;
}

NOINLINE static void strbuf_number(strbuf *b, uint64_t x)
{
    char tmp[24];
    int len = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)x);
    strbuf_append(b, tmp, (size_t)len);
}

NOINLINE static char *format_factors(uint64_t n, const vec *f)
{
    strbuf b = {NULL, 0, 0};
    strbuf_number(&b, n);
    strbuf_append(&b, " =", 2);
    for (size_t i = 0; i < f->n; i++) {
        strbuf_append(&b, i ? " * " : " ", i ? 3 : 1);
        strbuf_number(&b, f->v[i]);
    }
    return b.s;
}

typedef struct result { uint64_t n; char *text; vec *factors; } result;

NOINLINE static result *factor_one(uint64_t n)
{
    result *r = xmalloc(sizeof *r);
    r->n = n;
    r->factors = vec_new();
    factor_rec(n, r->factors);
    r->text = format_factors(n, r->factors);
    return r;
}

static void result_free(result *r)
{
    free(r->text);
    vec_free(r->factors);
    free(r);
}

#define RING 64

NOINLINE static uint64_t run_range(uint64_t start, uint64_t count)
{
    result *ring[RING] = {0};
    uint64_t sum = 0;
    for (uint64_t i = 0; i < count; i++) {
        result *r = factor_one(start + i);
        sum = sum * 31 + strlen(r->text) + r->factors->n;
        if (ring[i % RING])
            result_free(ring[i % RING]);
        ring[i % RING] = r;
    }
    for (int i = 0; i < RING; i++)
        if (ring[i])
            result_free(ring[i]);
    return sum;
}

static uint64_t arg(const char *s, const char *name, uint64_t dflt)
{
    if (!s)
        return dflt;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || v == 0) {
        fprintf(stderr, "factor: %s: '%s' is not a positive integer\n", name, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    uint64_t count = arg(argc > 1 ? argv[1] : NULL, "COUNT", 2000000);
    uint64_t start = arg(argc > 2 ? argv[2] : NULL, "START", 1000000);
    printf("factor: %llu numbers from %llu, checksum %llx\n", (unsigned long long)count,
           (unsigned long long)start, (unsigned long long)run_range(start, count));
    return 0;
}
