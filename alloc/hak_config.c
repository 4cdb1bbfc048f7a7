/* hak_config.c - HAKMEM_* knobs (read once at init) and the class table.
 *
 * Knobs are read with a private environment scan that never allocates: at
 * the first malloc of a preloaded process libc's environ may not be set yet
 * (the dynamic loader allocates before libc's constructor runs), in which
 * case the scan falls back to /proc/self/environ read with plain syscalls.
 * Invalid values are ignored (the default stays), reported by
 * hak_alloc_config() as the value actually used, and warned about once on
 * stderr, as are unknown HAKMEM_* names (hak_knobs_table.h).
 */
#include "hak_internal.h"
#include "hak_knobs_table.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <time.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

hak_config hak_cfg;   /* zero until init: mid_max 0 sends every malloc to the slow path */

static char env_buf[65536];
static size_t env_len;
static int env_from_proc;

static void env_load(void)
{
    if (environ) return;
    int fd = open("/proc/self/environ", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t r;
    while (env_len < sizeof env_buf - 1 &&
           (r = read(fd, env_buf + env_len, sizeof env_buf - 1 - env_len)) > 0)
        env_len += (size_t)r;
    close(fd);
    env_from_proc = 1;
}

static const char *env_get(const char *name)
{
    size_t nl = strlen(name);
    if (!env_from_proc) {
        for (char **e = environ; e && *e; e++)
            if (!strncmp(*e, name, nl) && (*e)[nl] == '=') return *e + nl + 1;
        return NULL;
    }
    for (size_t i = 0; i < env_len; i += strlen(env_buf + i) + 1)
        if (!strncmp(env_buf + i, name, nl) && env_buf[i + nl] == '=')
            return env_buf + i + nl + 1;
    return NULL;
}

/* Parses "2M", "64K", "65536"; 0 on junk. */
static uint64_t parse_size(const char *s)
{
    uint64_t v = 0;
    if (!s || !*s) return 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (UINT64_MAX - 9) / 10) return 0;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    uint64_t mul = 1;
    if (*s == 'k' || *s == 'K') mul = 1024, s++;
    else if (*s == 'm' || *s == 'M') mul = 1024 * 1024, s++;
    if (*s == 'i' && (s[1] == 'B' || s[1] == 'b')) s += 2;   /* 2MiB */
    if (*s) return 0;
    return v * mul;
}

static int pick(const char *v, const char *const *names, int n, int dflt)
{
    if (!v) return dflt;
    for (int i = 0; i < n; i++)
        if (!strcmp(v, names[i])) return i;
    return dflt;
}

static const char *const pf_names[] = {"off", "populate", "populate_write", "touch"};
static const char *const hp_names[] = {"off", "madvise"};
static const char *const zero_names[] = {"lazy", "always"};
static const char *const purge_names[] = {"off", "dontneed", "free"};

static const char *const check_names[] = {"0", "1"};

/* The per-process secret of hak_guard.h's link encoding: from getrandom, else from the
 * kernel's AT_RANDOM bytes mixed with the clock and an address. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27; x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static void secrets_init(hak_config *c)
{
    uint64_t k[2] = {0, 0};
    if (getrandom(k, sizeof k, GRND_NONBLOCK) != (ssize_t)sizeof k) {
        const uint64_t *at = (const uint64_t *)getauxval(AT_RANDOM);
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        uint64_t t = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
        k[0] = mix64((at ? at[0] : 0) ^ t ^ (uint64_t)(uintptr_t)&ts);
        k[1] = mix64((at ? at[1] : 0) ^ k[0] ^ (uint64_t)getpid());
    }
    c->link_secret = (uintptr_t)(k[0] ^ k[1]);
}

static int is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* An unknown HAKMEM_* variable (a typo) or an invalid value runs the
 * defaults: say so once, at init, one line each on stderr.  write(2) and
 * no stdio: this runs inside the first malloc.  The names and valid values
 * are hak_knobs_table.h, the table `hak replay --env` checks too. */
static size_t cat(char *b, size_t n, size_t cap, const char *s, size_t len)
{
    for (size_t i = 0; i < len && s[i] && n + 1 < cap; i++)
        b[n++] = s[i];
    return n;
}

static void warn_bad_knob(const char *kv)
{
    const hak_knob *k;
    int bad = hak_knob_check(kv, &k);
    if (!bad) return;
    char line[400];
    size_t n = 0, name = strcspn(kv, "=");
    n = cat(line, n, sizeof line, "hakmem: ", 8);
    if (bad == 1) {
        n = cat(line, n, sizeof line, "ignoring unknown knob ", 22);
        n = cat(line, n, sizeof line, kv, name);
        n = cat(line, n, sizeof line, " (see alloc/KNOBS.md)", 21);
    } else {
        n = cat(line, n, sizeof line, "invalid value ", 14);
        n = cat(line, n, sizeof line, kv, 120);
        n = cat(line, n, sizeof line, "; using the default (valid: ", 28);
        n = cat(line, n, sizeof line, k->valid, 120);
        n = cat(line, n, sizeof line, ")", 1);
    }
    line[n++] = '\n';
    ssize_t w = write(2, line, n);
    (void)w;
}

static void warn_bad_knobs(void)
{
    if (!env_from_proc) {
        for (char **e = environ; e && *e; e++) warn_bad_knob(*e);
        return;
    }
    for (size_t i = 0; i < env_len; i += strlen(env_buf + i) + 1) warn_bad_knob(env_buf + i);
}

void hak_config_init(void)
{
    hak_config *c = &hak_cfg;
    env_load();
    warn_bad_knobs();
    c->prefault = pick(env_get("HAKMEM_PREFAULT"), pf_names, 4, PF_OFF);
    c->hugepage = pick(env_get("HAKMEM_HUGEPAGE"), hp_names, 2, 0);
    c->zero_always = pick(env_get("HAKMEM_ZERO"), zero_names, 2, 0);
    c->purge = pick(env_get("HAKMEM_PURGE"), purge_names, 3, PURGE_DONTNEED);

    uint64_t ss = parse_size(env_get("HAKMEM_SUPERSLAB_SIZE"));
    if (!is_pow2(ss) || ss < (1u << 20) || ss > (32u << 20)) ss = 2u << 20;
    uint64_t sl = parse_size(env_get("HAKMEM_SLAB_SIZE"));
    if (!is_pow2(sl) || sl < (16u << 10) || sl > ss / 4) sl = 64u << 10;
    if (sl > ss / 4) sl = ss / 4;
    if (ss / sl > HAK_MAX_UNITS) sl = ss / HAK_MAX_UNITS;
    c->ss_size = ss;
    c->slab_size = sl;
    c->ss_mask = ~(uintptr_t)(ss - 1);
    c->slab_shift = (unsigned)__builtin_ctzll(sl);
    c->nunits = (unsigned)(ss / sl);
    /* The header takes whole 16 KiB granules, so that its granules keep
     * class 0 and no pointer into it passes free()'s fast path. */
    size_t hdr = sizeof(hak_ss) + c->nunits * sizeof(hak_slab);
    size_t gran = (size_t)1 << HAK_GRAN_SHIFT;
    c->hdr_size = (unsigned)((hdr + gran - 1) & ~(gran - 1));
    /* With many small units the header fills unit 0 or more: reserve whole units. */
    c->hdr_units = c->hdr_size >= sl ? (unsigned)((c->hdr_size + sl - 1) / sl) : 0;
    c->usable_units = c->nunits - c->hdr_units;

    const char *d = env_get("HAKMEM_PURGE_DELAY_MS");
    uint64_t ms = 100;
    if (d) { uint64_t v = parse_size(d); if (v || !strcmp(d, "0")) ms = v; }
    c->purge_delay_ns = ms * 1000000ull;

    c->check = pick(env_get("HAKMEM_CHECK"), check_names, 2, 0);
    secrets_init(c);

    const char *lc = env_get("HAKMEM_LARGE_CACHE");
    c->large_cache = 32u << 20;
    if (lc) { uint64_t v = parse_size(lc); if ((v || !strcmp(lc, "0")) && v <= (1ull << 40)) c->large_cache = v; }
    const char *ld = env_get("HAKMEM_LARGE_DECAY_MS");
    uint64_t lms = 1000;
    if (ld) { uint64_t v = parse_size(ld); if (v || !strcmp(ld, "0")) lms = v; }
    c->large_decay_ns = lms * 1000000ull;

    const char *t = env_get("HAKMEM_TCACHE");
    uint64_t tc = 256;
    if (t) { uint64_t v = parse_size(t); if (v || !strcmp(t, "0")) tc = v; }
    if (tc > 4096) tc = 4096;
    if (c->check) tc = 0;     /* every malloc and free takes the checking slow path */
    c->tcache = (unsigned)tc;

    /* Class table: 16-byte steps to 1 KiB, then 8 classes per doubling
     * (12.5% steps: less rounding waste in the 1..8 KiB range).
     * A slab of class B spans enough units for >= 8 blocks (>= 4 for the
     * largest), and at most half the SuperSlab; classes that do not fit
     * are served as large blocks. */
    unsigned max_span = (c->usable_units - 1) / 2;
    if (max_span < 1) max_span = 1;
    c->ncls = 1;
    c->mid_max = 0;
    for (unsigned k = 1; k < HAK_NCLASS; k++) {
        size_t b;
        if (k <= 64) b = (size_t)k * 16;
        else {
            unsigned g = (k - 65) / 8, j = (k - 65) % 8;
            b = ((size_t)1 << (10 + g)) + (size_t)(j + 1) * ((size_t)1 << (7 + g));
        }
        size_t units = (8 * b + sl - 1) / sl;
        if (units > max_span) units = (4 * b + sl - 1) / sl;
        if (units > max_span || units > 255) break;
        c->cls_size[k] = (uint32_t)b;
        c->cls_div[k] = UINT64_MAX / b + 1;    /* ceil(2^64 / b): hak_guard.h */
        c->cls_units[k] = (uint16_t)(units ? units : 1);
        uint64_t cap = b <= HAK_SMALL_MAX ? tc : tc * HAK_SMALL_MAX / b;
        if (cap == 0 && tc) cap = 1;
        c->cls_cap[k] = (uint16_t)cap;
        uint64_t refill = 16384 / b;
        if (refill > 64) refill = 64;
        if (refill < 1) refill = 1;
        if (refill > cap) refill = cap ? cap : 1;
        c->cls_refill[k] = (uint16_t)refill;
        c->ncls = k + 1;
        c->mid_max = (unsigned)b;
    }
}

static char cfg_str[512];

const char *hak_config_string(void)
{
    const hak_config *c = &hak_cfg;
    snprintf(cfg_str, sizeof cfg_str,
             "HAKMEM_PREFAULT=%s HAKMEM_HUGEPAGE=%s HAKMEM_SUPERSLAB_SIZE=%zu "
             "HAKMEM_SLAB_SIZE=%zu HAKMEM_ZERO=%s HAKMEM_PURGE=%s "
             "HAKMEM_PURGE_DELAY_MS=%llu HAKMEM_TCACHE=%u HAKMEM_CHECK=%d "
             "HAKMEM_LARGE_CACHE=%zu HAKMEM_LARGE_DECAY_MS=%llu mid_max=%u",
             pf_names[c->prefault], hp_names[c->hugepage], c->ss_size, c->slab_size,
             zero_names[c->zero_always], purge_names[c->purge],
             (unsigned long long)(c->purge_delay_ns / 1000000ull), c->tcache, c->check,
             c->large_cache, (unsigned long long)(c->large_decay_ns / 1000000ull), c->mid_max);
    return cfg_str;
}
