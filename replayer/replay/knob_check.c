/* knob_check.c - refusing --env settings hakmem would silently ignore
 * (see replay.h).  A typo in a knob name or an invalid value used to run
 * the defaults under a label naming the typo. */
#include "replay.h"
#include "hak_knobs_table.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* Levenshtein distance of two short ASCII strings (knob names). */
static size_t distance(const char *a, size_t n, const char *b)
{
    size_t m = strlen(b), d[64], prev;
    if (n > 63 || m > 63)
        return 64;
    for (size_t j = 0; j <= m; j++)
        d[j] = j;
    for (size_t i = 1; i <= n; i++) {
        prev = d[0];
        d[0] = i;
        for (size_t j = 1; j <= m; j++) {
            size_t cur = d[j];
            size_t v = prev + (toupper((unsigned char)a[i - 1]) != (unsigned char)b[j - 1]);
            if (d[j] + 1 < v) v = d[j] + 1;
            if (d[j - 1] + 1 < v) v = d[j - 1] + 1;
            d[j] = v;
            prev = cur;
        }
    }
    return d[m];
}

int rp_alloc_is_hakmem(const rp_alloc *a)
{
    return !strcmp(a->spec, "hakmem") || !strncmp(a->spec, "hakmem@", 7);
}

int rp_check_knobs(const char *const *env, size_t nenv, char *err, size_t errlen)
{
    for (size_t i = 0; i < nenv; i++) {
        const hak_knob *k;
        int bad = hak_knob_check(env[i], &k);
        if (!bad)
            continue;
        const char *eq = strchr(env[i], '=');
        size_t n = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
        if (bad == 2) {
            snprintf(err, errlen, "--env %s: invalid value for %s; valid: %s", env[i], k->name,
                     k->valid);
            return -1;
        }
        const hak_knob *near = NULL;
        size_t best = 4;   /* suggest only a close name */
        for (size_t j = 0; j < HAK_NKNOBS; j++) {
            size_t d = distance(env[i], n, hak_knobs[j].name);
            if (d < best)
                best = d, near = &hak_knobs[j];
        }
        char names[512];
        size_t off = 0;
        for (size_t j = 0; j < HAK_NKNOBS && off < sizeof names; j++)
            off += (size_t)snprintf(names + off, sizeof names - off, "%s%s", j ? ", " : "",
                                    hak_knobs[j].name);
        snprintf(err, errlen, "--env %s: hakmem has no knob %.*s%s%s%s; knobs: %s", env[i], (int)n,
                 env[i], near ? " (did you mean " : "", near ? near->name : "", near ? "?)" : "",
                 names);
        return -1;
    }
    return 0;
}
