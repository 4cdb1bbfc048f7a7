/* report_svg.h - inline SVG charts for `hak report --html`: horizontal bar
 * charts with min..max whiskers, line charts (RSS timelines) and vertical
 * histograms.  Output is self-contained SVG (no scripts, no external
 * fonts), sized in CSS pixels, text HTML-escaped. */
#ifndef REPORT_SVG_H
#define REPORT_SVG_H

#include <stddef.h>
#include <stdio.h>

typedef struct svg_bar {
    const char *label;      /* row label (allocator + knobs) */
    const char *color;      /* CSS colour of the bar */
    double value, lo, hi;   /* median and whisker range; NAN = none */
    int best;               /* draw emphasised */
    int failed;             /* no value because every run failed */
} svg_bar;

/* Horizontal bars, one row per bar; unit picks the value formatting. */
void svg_bars(FILE *out, const char *title, const char *unit, const char *note,
              const svg_bar *bars, size_t n);

typedef struct svg_series {
    const char *name, *color;
    int dashed;
    size_t n;
    const double *x, *y;    /* x in [0, 1] (fraction of the run), y in unit */
    int unscaled;           /* 1: not used for the y scale (clipped at the top) unless
                               every series is unscaled */
} svg_series;

void svg_lines(FILE *out, const char *title, const char *x_label, const char *unit,
               const svg_series *s, size_t n);

/* Vertical histogram bars with category labels under them. */
void svg_hist(FILE *out, const char *title, const char *y_label,
              const char *const *labels, const double *values, size_t n, const char *color);

/* A stable colour per allocator name. */
const char *svg_color_for(const char *alloc);
/* The k-th shade of a "#rrggbb" colour (k = 0: itself; then lighter), for
 * several knob settings of one allocator.  Static ring of 8 results. */
const char *svg_shade(const char *hex, int k);
/* s shortened to at most max characters by cutting out its middle. */
void svg_shorten(const char *s, size_t max, char *out, size_t len);

#endif
