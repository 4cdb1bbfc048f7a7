/* sweep_grid.c - see sweep_grid.h. */
#include "sweep_grid.h"

#include <stdio.h>
#include <string.h>

int sweep_grid_add(sweep_grid *g, const char *spec, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec) {
        snprintf(err, errlen, "--grid '%s': expected KEY=VALUE1,VALUE2,...", spec);
        return -1;
    }
    size_t klen = (size_t)(eq - spec);
    if (klen >= sizeof g->axes[0].key || memchr(spec, ' ', klen) || memchr(spec, ',', klen)) {
        snprintf(err, errlen, "--grid '%s': bad key (no spaces or commas, < 128 chars)", spec);
        return -1;
    }
    if (g->naxes == SWEEP_MAX_AXES) {
        snprintf(err, errlen, "--grid '%s': at most %d axes", spec, SWEEP_MAX_AXES);
        return -1;
    }
    sweep_axis ax;
    memset(&ax, 0, sizeof ax);
    memcpy(ax.key, spec, klen);
    for (int i = 0; i < g->naxes; i++)
        if (!strcmp(g->axes[i].key, ax.key)) {
            snprintf(err, errlen, "--grid '%s': key %s given twice", spec, ax.key);
            return -1;
        }
    const char *v = eq + 1;
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t vlen = comma ? (size_t)(comma - v) : strlen(v);
        if (vlen == 0) {
            snprintf(err, errlen, "--grid '%s': empty value", spec);
            return -1;
        }
        if (vlen >= sizeof ax.values[0] || memchr(v, ' ', vlen)) {
            snprintf(err, errlen, "--grid '%s': bad value (no spaces, < 128 chars)", spec);
            return -1;
        }
        if (ax.nvalues == SWEEP_MAX_VALUES) {
            snprintf(err, errlen, "--grid '%s': at most %d values", spec, SWEEP_MAX_VALUES);
            return -1;
        }
        memcpy(ax.values[ax.nvalues++], v, vlen);
        if (!comma)
            break;
        v = comma + 1;
    }
    size_t n = sweep_grid_count(g) * (size_t)ax.nvalues;
    if (n > SWEEP_MAX_COMBOS) {
        snprintf(err, errlen, "--grid '%s': %zu combinations (at most %d)", spec, n, SWEEP_MAX_COMBOS);
        return -1;
    }
    g->axes[g->naxes++] = ax;
    return 0;
}

size_t sweep_grid_count(const sweep_grid *g)
{
    size_t n = 1;
    for (int i = 0; i < g->naxes; i++)
        n *= (size_t)g->axes[i].nvalues;
    return n;
}

int sweep_grid_env(const sweep_grid *g, size_t i, char *buf, size_t len)
{
    if (i >= sweep_grid_count(g))
        return -1;
    buf[0] = '\0';
    size_t idx[SWEEP_MAX_AXES];
    for (int a = g->naxes - 1; a >= 0; a--) {   /* last axis fastest */
        idx[a] = i % (size_t)g->axes[a].nvalues;
        i /= (size_t)g->axes[a].nvalues;
    }
    size_t off = 0;
    for (int a = 0; a < g->naxes && off < len; a++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s=%s", a ? " " : "",
                                g->axes[a].key, g->axes[a].values[idx[a]]);
    return off < len ? 0 : -1;
}

void sweep_grid_text(const sweep_grid *g, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int a = 0; a < g->naxes && off < len; a++) {
        off += (size_t)snprintf(buf + off, len - off, "%s%s=", a ? "; " : "", g->axes[a].key);
        for (int v = 0; v < g->axes[a].nvalues && off < len; v++)
            off += (size_t)snprintf(buf + off, len - off, "%s%s", v ? "," : "", g->axes[a].values[v]);
    }
}
