/* hak_config.c - HAKMEM_* knobs (read once at init) and the class table.
 *
 * Knobs are read with a private environment scan that never allocates: at
 * the first malloc of a preloaded process libc's environ may not be set yet
 * (the dynamic loader allocates before libc's constructor runs), in which
 * case the scan falls back to /proc/self/environ read with plain syscalls.
 * Every knob is parsed through hak_knobs_table.h; an invalid value keeps
 * the default and is warned about once on stderr (one line), as are
 * unknown HAKMEM_* names and a valid value that the other knobs rule out
 * (a slab larger than a quarter of the SuperSlab).  hak_alloc_config()
 * reports the values actually used, generated from the same table.
 */
#include "hak_internal.h"
#include "hak_knobs_table.h"

#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

/* Zero until init (mid_max 0 sends every malloc to the slow path), except
 * the registry pointer, which free() reads from its first call on. */
HAK_HOT hak_config hak_cfg = {.registry = hak_registry_none};

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
        uint64_t t = hak_clock_fine_ns();
        k[0] = mix64((at ? at[0] : 0) ^ t ^ (uint64_t)(uintptr_t)&t);
        k[1] = mix64((at ? at[1] : 0) ^ k[0] ^ (uint64_t)getpid());
    }
    c->link_secret = (uintptr_t)(k[0] ^ k[1]);
}

/* An unknown HAKMEM_* variable (a typo) or an invalid value runs the
 * defaults: say so once, at init, one line each on stderr.  write(2) and
 * no stdio: this runs inside the first malloc.  A line is "hakmem: " and
 * the pieces given, cut at 400 bytes. */
static void warn(const char *const *parts, size_t nparts)
{
    char line[400];   /* (the last byte is kept for the newline) */
    size_t n = 0;
    hak_knob_cat(line, sizeof line - 1, &n, "hakmem: ");
    for (size_t i = 0; i < nparts; i++) hak_knob_cat(line, sizeof line - 1, &n, parts[i]);
    line[n++] = '\n';
    ssize_t w = write(2, line, n);
    (void)w;
}

static void warn_unknown(const char *kv)
{
    const hak_knob *k;
    if (hak_knob_check(kv, &k) != 1) return;
    char name[120];
    size_t len = strcspn(kv, "=");
    if (len >= sizeof name) len = sizeof name - 1;
    memcpy(name, kv, len);
    name[len] = 0;
    const char *parts[] = {"ignoring unknown knob ", name, " (see alloc/KNOBS.md)"};
    warn(parts, 3);
}

static void warn_unknown_knobs(void)
{
    if (!env_from_proc) {
        for (char **e = environ; e && *e; e++) warn_unknown(*e);
        return;
    }
    for (size_t i = 0; i < env_len; i += strlen(env_buf + i) + 1) warn_unknown(env_buf + i);
}

/* Knob id's value from the environment, parsed through the table: the
 * default when unset, or when invalid (warned). */
static uint64_t knob_get(int id)
{
    const hak_knob *k = &hak_knobs[id];
    const char *v = env_get(k->name);
    uint64_t x = k->dflt;
    if (v && !hak_knob_parse(k, v, &x)) {
        /* (the wording is the one replayer/tests/replay_defaults.sh expects) */
        const char *parts[] = {"invalid value ", k->name, "=", v, "; using the default (valid: ",
                               k->valid, ")"};
        warn(parts, 7);
    }
    return x;
}

/* A valid value that the other knobs rule out: warned, then replaced. */
static void warn_adjusted(int id, uint64_t set, uint64_t used, const char *why)
{
    char a[32], b[32];
    size_t na = 0, nb = 0;
    hak_knob_cat_bytes(a, sizeof a, &na, set);     /* (only sizes are adjusted) */
    hak_knob_cat_bytes(b, sizeof b, &nb, used);
    const char *parts[] = {hak_knobs[id].name, "=", a, " ", why, "; using ", b};
    warn(parts, 7);
}

_Static_assert(PF_OFF == 0 && PF_POPULATE == 1 && PF_POPULATE_WRITE == 2 && PF_TOUCH == 3,
               "HAKMEM_PREFAULT's choices are in PF_* order");
_Static_assert(PURGE_OFF == 0 && PURGE_DONTNEED == 1 && PURGE_FREE == 2,
               "HAKMEM_PURGE's choices are in PURGE_* order");

void hak_config_init(void)
{
    hak_config *c = &hak_cfg;
    env_load();
    warn_unknown_knobs();
    uint64_t *kv = c->knob;
    for (int i = 0; i < HAK_K_NUM; i++) kv[i] = knob_get(i);
    c->prefault = (int)kv[HAK_K_PREFAULT];
    c->hugepage = (int)kv[HAK_K_HUGEPAGE];
    c->zero_always = (int)kv[HAK_K_ZERO];
    c->purge = (int)kv[HAK_K_PURGE];

    uint64_t ss = kv[HAK_K_SUPERSLAB_SIZE], sl = kv[HAK_K_SLAB_SIZE];
    if (sl > ss / 4) {
        uint64_t fix = 64u << 10 <= ss / 4 ? 64u << 10 : ss / 4;
        warn_adjusted(HAK_K_SLAB_SIZE, sl, fix, "is more than a quarter of the SuperSlab size");
        sl = fix;
    }
    if (ss / sl > HAK_MAX_UNITS) {
        if (env_get(hak_knobs[HAK_K_SLAB_SIZE].name))
            warn_adjusted(HAK_K_SLAB_SIZE, sl, ss / HAK_MAX_UNITS, "makes more than 256 slabs per SuperSlab");
        sl = ss / HAK_MAX_UNITS;
    }
    kv[HAK_K_SLAB_SIZE] = sl;
    c->ss_size = ss;
    c->slab_size = sl;
    if (hak_registry_init()) {
        static const char msg[] = "hakmem: cannot reserve 128 MiB of address space for the "
                                   "mapping registry (RLIMIT_AS too low?)\n";
        ssize_t r = write(2, msg, sizeof msg - 1);
        (void)r;
        abort();
    }
    c->ss_mask = ~(uintptr_t)(ss - 1);
    c->slab_shift = (unsigned)__builtin_ctzll(sl);
    c->nunits = (unsigned)(ss / sl);
    /* The header takes whole pages (gran_cls granules), so that its pages
     * keep class 0 and no pointer into it passes free()'s fast path. */
    size_t grans = (size_t)ss >> HAK_GRAN_SHIFT;
    c->slabs_off = (unsigned)((offsetof(hak_ss, gran_cls) + grans + 63) & ~(size_t)63);
    size_t hdr = c->slabs_off + c->nunits * sizeof(hak_slab);
    size_t gran = (size_t)1 << HAK_GRAN_SHIFT;
    c->hdr_size = (unsigned)((hdr + gran - 1) & ~(gran - 1));
    /* With many small units the header fills unit 0 or more: reserve whole units. */
    c->hdr_units = c->hdr_size >= sl ? (unsigned)((c->hdr_size + sl - 1) / sl) : 0;
    c->usable_units = c->nunits - c->hdr_units;

    c->purge_delay_ns = kv[HAK_K_PURGE_DELAY_MS] * 1000000ull;
    c->check = (int)kv[HAK_K_CHECK];
    secrets_init(c);
    c->large_cache = kv[HAK_K_LARGE_CACHE];
    c->large_decay_ns = kv[HAK_K_LARGE_DECAY_MS] * 1000000ull;
    uint64_t tc = kv[HAK_K_TCACHE];
    if (c->check) tc = 0;     /* every malloc and free takes the checking slow path */
    kv[HAK_K_TCACHE] = tc;
    c->tcache = (unsigned)tc;

    /* Class table: 16-byte steps to 1 KiB (malloc uses those of
     * hak_small_last: 16-byte steps to 256 B, then 32 and 64), then 8
     * classes per doubling (12.5% steps: less rounding waste in the
     * 1..8 KiB range).
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
        /* A refill moves about 4 KiB of blocks up to 1 KiB (at most 64
         * blocks), 16 KiB of larger ones (at least one): every class a
         * heap uses holds a refill's worth in its cache, and 16 KiB per
         * small class made larson's peak RSS 1.5x glibc's, while smaller
         * refills of blocks above 1 KiB made random cross-thread frees of
         * 8 B..16 KiB 10-15% slower. */
        uint64_t refill = (b <= HAK_SMALL_MAX ? 4096 : 16384) / b;
        if (refill > 64) refill = 64;
        if (refill < 1) refill = 1;
        if (refill > cap) refill = cap ? cap : 1;
        c->cls_refill[k] = (uint16_t)refill;
        c->ncls = k + 1;
        c->mid_max = (unsigned)b;
    }
}

static char cfg_str[512];

/* Every knob's effective value, in table order, then mid_max. */
const char *hak_config_string(void)
{
    size_t n = 0;
    for (int i = 0; i < HAK_K_NUM; i++) {
        if (i) hak_knob_cat(cfg_str, sizeof cfg_str, &n, " ");
        hak_knob_cat(cfg_str, sizeof cfg_str, &n, hak_knobs[i].name);
        hak_knob_cat(cfg_str, sizeof cfg_str, &n, "=");
        hak_knob_format(&hak_knobs[i], hak_cfg.knob[i], cfg_str, sizeof cfg_str, &n);
    }
    hak_knob_cat(cfg_str, sizeof cfg_str, &n, " mid_max=");
    hak_knob_cat_u64(cfg_str, sizeof cfg_str, &n, hak_cfg.mid_max);
    return cfg_str;
}
