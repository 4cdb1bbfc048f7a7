/* report_svg.c - see report_svg.h. */
#include "report_svg.h"
#include "db_cli.h"

#include <math.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

const char *svg_color_for(const char *alloc)
{
    static const struct { const char *prefix, *color; } known[] = {
        {"hakmem", "#2563eb"}, {"glibc", "#6b7280"}, {"mimalloc", "#16a34a"},
        {"jemalloc", "#9333ea"}, {"tcmalloc", "#ea580c"}, {"bump", "#a16207"},
    };
    static const char *const palette[] = {"#0891b2", "#db2777", "#65a30d", "#7c3aed", "#dc2626"};
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (!strncmp(alloc, known[i].prefix, strlen(known[i].prefix)) &&
            !strchr(alloc + strlen(known[i].prefix), '@'))
            return known[i].color;
    uint32_t h = 2166136261u;
    for (const char *p = alloc; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    return palette[h % (sizeof palette / sizeof *palette)];
}

void svg_shorten(const char *s, size_t max, char *out, size_t len)
{
    size_t n = strlen(s);
    if (n <= max || max < 8) {
        snprintf(out, len, "%s", s);
        return;
    }
    /* keep both ends: the allocator and the last knob usually differ */
    size_t head = (max - 3) / 2, tail = max - 3 - head;
    snprintf(out, len, "%.*s...%s", (int)head, s, s + n - tail);
}

const char *svg_shade(const char *hex, int k)
{
    static char ring[8][8];
    static int next;
    /* > 0: towards white, < 0: towards black; never so light it vanishes */
    static const double mix[] = {0, 0.4, -0.35, 0.2, -0.55, 0.55};
    unsigned r = 0, g = 0, b = 0;
    if (sscanf(hex, "#%2x%2x%2x", &r, &g, &b) != 3)
        return hex;
    double m = mix[(unsigned)k % (sizeof mix / sizeof *mix)];
    char *out = ring[next++ % 8];
    unsigned c[3] = {r, g, b};
    for (int i = 0; i < 3; i++)
        c[i] = m >= 0 ? (unsigned)(c[i] + (255 - c[i]) * m) : (unsigned)(c[i] * (1 + m));
    snprintf(out, 8, "#%02x%02x%02x", c[0] & 0xff, c[1] & 0xff, c[2] & 0xff);
    return out;
}

/* A "nice" axis maximum >= v: 1, 2, 2.5 or 5 times a power of ten. */
static double nice_max(double v)
{
    if (!(v > 0))
        return 1;
    double p = pow(10, floor(log10(v)));
    static const double steps[] = {1, 2, 2.5, 5, 10};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++)
        if (steps[i] * p >= v * 0.9999)
            return steps[i] * p;
    return 10 * p;
}

static void text(FILE *out, double x, double y, const char *anchor, const char *cls, const char *s)
{
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" class=\"%s\">", x, y, anchor, cls);
    db_html_str(out, s);
    fputs("</text>\n", out);
}

void svg_bars(FILE *out, const char *title, const char *unit, const char *note,
              const svg_bar *bars, size_t n)
{
    const double W = 700, label_w = 300, value_w = 90, row = 26, top = 34;
    double plot_w = W - label_w - value_w - 10;
    double H = top + row * (double)n + 26;
    double vmax = 0;
    for (size_t i = 0; i < n; i++) {
        double v = isnan(bars[i].hi) ? bars[i].value : bars[i].hi;
        if (!isnan(v) && v > vmax)
            vmax = v;
    }
    double axis = nice_max(vmax);
    fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                 "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n", W, H, W, H);
    fputs("<title>", out);
    db_html_str(out, title);
    fputs("</title>\n", out);
    text(out, 0, 16, "start", "ct", title);
    if (note)
        text(out, W, 16, "end", "cn", note);
    /* grid lines at quarters of the axis */
    for (int k = 0; k <= 4; k++) {
        double x = label_w + plot_w * k / 4.0;
        char b[48];
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
                x, top - 6, x, top + row * (double)n);
        text(out, x, top + row * (double)n + 16, "middle", "ax", k ? db_fmt_value(axis * k / 4.0, unit, b, sizeof b) : "0");
    }
    for (size_t i = 0; i < n; i++) {
        const svg_bar *b = &bars[i];
        double y = top + row * (double)i;
        char lbl[200];
        svg_shorten(b->label, 40, lbl, sizeof lbl);
        text(out, label_w - 8, y + row / 2 + 4, "end", b->best ? "lb best" : "lb", lbl);
        if (isnan(b->value)) {
            text(out, label_w + 4, y + row / 2 + 4, "start", "na", b->failed ? "every run failed" : "not measured");
            continue;
        }
        double w = plot_w * b->value / axis;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" fill=\"%s\"%s/>\n",
                label_w, y + 4, w > 0.5 ? w : 0.5, row - 8, b->color,
                b->best ? " stroke=\"#111\" stroke-width=\"1.5\"" : " fill-opacity=\"0.85\"");
        if (!isnan(b->lo) && !isnan(b->hi) && b->hi > b->lo) {
            double x1 = label_w + plot_w * b->lo / axis, x2 = label_w + plot_w * b->hi / axis;
            double ym = y + row / 2;
            fprintf(out, "<path d=\"M%.1f %.1fH%.1fM%.1f %.1fV%.1fM%.1f %.1fV%.1f\" class=\"wh\"/>\n",
                    x1, ym, x2, x1, ym - 5, ym + 5, x2, ym - 5, ym + 5);
        }
        char v[48];
        double xe = label_w + (isnan(b->hi) ? w : fmax(w, plot_w * b->hi / axis));
        text(out, xe + 6, y + row / 2 + 4, "start", b->best ? "val best" : "val",
             db_fmt_value(b->value, unit, v, sizeof v));
    }
    fputs("</svg>\n", out);
}

void svg_lines(FILE *out, const char *title, const char *x_label, const char *unit,
               const svg_series *s, size_t n)
{
    const double W = 700, L = 70, R = 12, T = 30, B = 52 + 14 * (double)((n + 1) / 2);
    const double H = 230 + B;
    double pw = W - L - R, ph = H - T - B;
    double ymax = 0;
    int scaled = 0;
    for (size_t i = 0; i < n; i++)
        scaled |= !s[i].unscaled && s[i].n;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < s[i].n && (!scaled || !s[i].unscaled); k++)
            if (s[i].y[k] > ymax)
                ymax = s[i].y[k];
    double axis = nice_max(ymax);
    fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                 "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n<title>", W, H, W, H);
    db_html_str(out, title);
    fputs("</title>\n", out);
    text(out, 0, 16, "start", "ct", title);
    for (int k = 0; k <= 4; k++) {
        double y = T + ph - ph * k / 4.0;
        char b[48];
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", L, y, L + pw, y);
        text(out, L - 6, y + 4, "end", "ax", k ? db_fmt_value(axis * k / 4.0, unit, b, sizeof b) : "0");
        double x = L + pw * k / 4.0;
        snprintf(b, sizeof b, "%d%%", 25 * k);
        text(out, x, T + ph + 16, "middle", "ax", b);
    }
    text(out, L + pw / 2, T + ph + 32, "middle", "ax", x_label);
    for (size_t i = 0; i < n; i++) {
        if (!s[i].n)
            continue;
        fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"%s\"%s points=\"",
                s[i].color, s[i].dashed ? "2.5" : "1.8",
                s[i].dashed ? " stroke-dasharray=\"6 4\"" : "");
        for (size_t k = 0; k < s[i].n; k++)
            fprintf(out, "%.1f,%.1f ", L + pw * fmin(fmax(s[i].x[k], 0), 1),
                    T + ph - ph * fmin(s[i].y[k] / axis, 1));
        fputs("\"/>\n", out);
    }
    /* legend under the axis label, two entries per line */
    for (size_t i = 0; i < n; i++) {
        double x = L + (double)(i % 2) * 300, y = T + ph + 46 + (double)(i / 2) * 14;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2.5\"%s/>\n",
                x, y - 4, x + 18, y - 4, s[i].color, s[i].dashed ? " stroke-dasharray=\"6 4\"" : "");
        char nm[64];
        svg_shorten(s[i].name, 44, nm, sizeof nm);
        text(out, x + 22, y, "start", "lg", nm);
    }
    fputs("</svg>\n", out);
}

void svg_hist(FILE *out, const char *title, const char *y_label,
              const char *const *labels, const double *values, size_t n, const char *color)
{
    const double W = 700, H = 240, L = 60, R = 10, T = 30, B = 46;
    double pw = W - L - R, ph = H - T - B;
    double vmax = 0;
    for (size_t i = 0; i < n; i++)
        if (values[i] > vmax)
            vmax = values[i];
    double axis = nice_max(vmax);
    fprintf(out, "<svg class=\"chart\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" height=\"%.0f\" "
                 "xmlns=\"http://www.w3.org/2000/svg\" role=\"img\">\n<title>", W, H, W, H);
    db_html_str(out, title);
    fputs("</title>\n", out);
    text(out, 0, 16, "start", "ct", title);
    for (int k = 0; k <= 4; k++) {
        double y = T + ph - ph * k / 4.0;
        char b[48];
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n", L, y, L + pw, y);
        text(out, L - 6, y + 4, "end", "ax", db_fmt_value(axis * k / 4.0, "count", b, sizeof b));
    }
    text(out, 12, T + ph / 2, "middle", "ax vert", y_label);
    double bw = n ? pw / (double)n : pw;
    for (size_t i = 0; i < n; i++) {
        double h = ph * values[i] / axis;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>\n",
                L + bw * (double)i + 1, T + ph - h, bw - 2 > 1 ? bw - 2 : 1, h, color);
        /* label every bar when few, else every other */
        if (n <= 16 || i % 2 == 0)
            text(out, L + bw * ((double)i + 0.5), T + ph + 14, "middle", "ax", labels[i]);
    }
    fputs("</svg>\n", out);
}
