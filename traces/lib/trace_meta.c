/* trace_meta.c - the file header's metadata block and the chunk checksum.
 *
 * Metadata is a list of (varint key, varint length, bytes) fields, so
 * readers skip keys they do not know and new keys never need a version
 * bump.  Integers inside a field are varints (pid/ppid zigzag).
 */
#include "trace_meta.h"
#include "trace_codec.h"
#include "trace_fmt.h"

#include <stdlib.h>
#include <string.h>

#define P1 0x9e3779b185ebca87ull
#define P2 0xc2b2ae3d27d4eb4full

static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t lane(uint64_t acc, const uint8_t *p)
{
    return rotl(acc + tf_get64(p) * P2, 31) * P1;
}

uint64_t tf_hash64(const void *data, size_t len, uint64_t seed)
{
    const uint8_t *p = data;
    size_t n = len;
    uint64_t a = seed + P1, b = seed ^ P2, c = seed, d = seed - P1;
    for (; n >= 32; p += 32, n -= 32) {
        a = lane(a, p);
        b = lane(b, p + 8);
        c = lane(c, p + 16);
        d = lane(d, p + 24);
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + (uint64_t)len;
    for (; n >= 8; p += 8, n -= 8)
        h = rotl(h ^ lane(0, p), 27) * P1 + P2;
    for (; n; p++, n--)
        h = rotl(h ^ (*p * P1), 11) * P2;
    h ^= h >> 33;
    h *= P2;
    h ^= h >> 29;
    h *= P1;
    return h ^ (h >> 32);
}

uint32_t tf_chunk_csum(const uint8_t hdr[TF_CHUNK_HDR], const uint8_t *payload,
                       uint32_t len)
{
    return (uint32_t)tf_hash64(payload, len, tf_hash64(hdr, TF_CHUNK_HDR - 4, TF_CSUM_SEED));
}

void tf_fix_checksums(uint8_t *c, size_t len)
{
    if (len < TF_FILE_FIXED)
        return;
    uint32_t mlen = tf_get32(c + 12);
    if (mlen > len || TF_FILE_FIXED + (size_t)mlen + 4 > len)
        return;
    tf_put32(c + TF_FILE_FIXED + mlen, tf_header_csum(c, TF_FILE_FIXED + mlen));
    for (size_t off = TF_FILE_FIXED + mlen + 4; off + TF_CHUNK_HDR <= len;) {
        uint32_t cs = tf_get32(c + off + 24);
        if (cs > len - off - TF_CHUNK_HDR)
            return;
        tf_put32(c + off + 28, tf_chunk_csum(c + off, c + off + TF_CHUNK_HDR, cs));
        off += TF_CHUNK_HDR + cs;
    }
}

/* ---- encoding ---- */
typedef struct mbuf { uint8_t *p; size_t len, cap; int oom; } mbuf;

static void mb_bytes(mbuf *b, const void *src, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 256;
        while (cap < b->len + n)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
}

static void mb_var(mbuf *b, uint64_t v)
{
    uint8_t tmp[10];
    mb_bytes(b, tmp, (size_t)(tc_put(tmp, v) - tmp));
}

static void field_u(mbuf *b, unsigned key, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = (size_t)(tc_put(tmp, v) - tmp);
    mb_var(b, key);
    mb_var(b, n);
    mb_bytes(b, tmp, n);
}

static void field_s(mbuf *b, unsigned key, const char *s)
{
    if (!s)
        return;
    size_t n = strlen(s);
    mb_var(b, key);
    mb_var(b, n);
    mb_bytes(b, s, n);
}

uint8_t *tf_meta_encode(const hak_trace_meta *m, size_t *len)
{
    static const hak_trace_meta none = {0};
    mbuf b = {0};
    if (!m)
        m = &none;
    field_u(&b, TF_M_PID, tc_zz(m->pid));
    field_u(&b, TF_M_PPID, tc_zz(m->ppid));
    field_u(&b, TF_M_START_WALL, m->start_wall_ns);
    field_u(&b, TF_M_PAGE_SIZE, m->page_size);
    for (uint32_t i = 0; i < m->argc && m->argv; i++)
        field_s(&b, TF_M_ARGV, m->argv[i] ? m->argv[i] : "");
    field_s(&b, TF_M_HOSTNAME, m->hostname);
    field_s(&b, TF_M_KERNEL, m->kernel);
    field_s(&b, TF_M_THP, m->thp_mode);
    field_s(&b, TF_M_CPU, m->cpu_model);
    field_s(&b, TF_M_RECORDER, m->recorder);
    field_s(&b, TF_M_OPTIONS, m->options);
    field_u(&b, TF_M_TS_UNIT, m->ts_unit_ns ? m->ts_unit_ns : 1);
    if (b.oom || b.len > TF_META_MAX) {
        free(b.p);
        return NULL;
    }
    if (!b.p)
        b.p = malloc(1);
    *len = b.len;
    return b.p;
}

/* ---- decoding ---- */
static char *dup_str(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    if (s) {
        memcpy(s, p, n);
        s[n] = 0;
    }
    return s;
}

static int get_uint(const uint8_t *p, size_t n, uint64_t *v)
{
    uint8_t tmp[10 + 16] = {0};   /* tc_get reads <= 10 bytes */
    if (n == 0 || n > 10)
        return -1;
    memcpy(tmp, p, n);
    const uint8_t *e = tc_get(tmp, v);
    return e == tmp + n ? 0 : -1;
}

void tf_meta_free(hak_trace_meta *m)
{
    for (uint32_t i = 0; i < m->argc; i++)
        free(m->argv[i]);
    free(m->argv);
    free((char *)m->hostname);
    free((char *)m->kernel);
    free((char *)m->thp_mode);
    free((char *)m->cpu_model);
    free((char *)m->recorder);
    free((char *)m->options);
    memset(m, 0, sizeof *m);
}

int tf_meta_decode(const uint8_t *p, size_t len, hak_trace_meta *m,
                   const char **why)
{
    const uint8_t *end = p + len;
    uint32_t version = m->version;
    memset(m, 0, sizeof *m);
    m->version = version;
    m->ts_unit_ns = 1;
    while (p < end) {
        uint64_t key, n, v = 0;
        uint8_t tmp[2 * 10 + 16] = {0};
        /* Copy the two varints out so reading never runs past `end`. */
        size_t avail = (size_t)(end - p) < 20 ? (size_t)(end - p) : 20;
        memcpy(tmp, p, avail);
        const uint8_t *q = tc_get(tmp, &key);
        if (!q || (size_t)(q - tmp) > avail || !(q = tc_get(q, &n))
            || (size_t)(q - tmp) > avail) {
            *why = "bad metadata field header";
            goto fail;
        }
        p += q - tmp;
        if (n > (uint64_t)(end - p)) {
            *why = "metadata field runs past the metadata block";
            goto fail;
        }
        const char **sp = NULL;
        switch (key) {
        case TF_M_PID: case TF_M_PPID: case TF_M_START_WALL:
        case TF_M_PAGE_SIZE: case TF_M_TS_UNIT:
            if (get_uint(p, (size_t)n, &v)) {
                *why = "bad integer in metadata";
                goto fail;
            }
            if (key == TF_M_PID) m->pid = (int32_t)tc_unzz(v);
            else if (key == TF_M_PPID) m->ppid = (int32_t)tc_unzz(v);
            else if (key == TF_M_START_WALL) m->start_wall_ns = v;
            else if (key == TF_M_PAGE_SIZE) m->page_size = (uint32_t)v;
            else if (v == 0 || v > UINT32_MAX) {
                *why = "bad timestamp unit in metadata";
                goto fail;
            } else m->ts_unit_ns = (uint32_t)v;
            break;
        case TF_M_ARGV: {
            if (m->argc >= 65536) {
                *why = "too many argv entries in metadata";
                goto fail;
            }
            char **a = realloc(m->argv, (m->argc + 2) * sizeof *a);
            if (!a) { *why = "out of memory"; goto fail; }
            m->argv = a;
            if (!(a[m->argc] = dup_str(p, (size_t)n))) { *why = "out of memory"; goto fail; }
            a[++m->argc] = NULL;
            break;
        }
        case TF_M_HOSTNAME: sp = &m->hostname; break;
        case TF_M_KERNEL: sp = &m->kernel; break;
        case TF_M_THP: sp = &m->thp_mode; break;
        case TF_M_CPU: sp = &m->cpu_model; break;
        case TF_M_RECORDER: sp = &m->recorder; break;
        case TF_M_OPTIONS: sp = &m->options; break;
        default: break;  /* unknown key: skipped (forward compatible) */
        }
        if (sp) {
            free((char *)*sp);
            if (!(*sp = dup_str(p, (size_t)n))) { *why = "out of memory"; goto fail; }
        }
        p += n;
    }
    return 0;
fail:
    tf_meta_free(m);
    return -1;
}
