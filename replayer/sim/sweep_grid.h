/* sweep_grid.h - a knob grid for `hak sweep`: axes 'KEY=v1,v2,...' and
 * their cross product, enumerated in a fixed order (the last axis varies
 * fastest, like nested loops in the order the axes were given).
 *
 * Invariants: keys are non-empty, contain no '=', space or ','; every axis
 * has >= 1 non-empty value without spaces; a key appears once; the product
 * is at most SWEEP_MAX_COMBOS.  No grid at all is one combination (the
 * defaults, env "").
 */
#ifndef SWEEP_GRID_H
#define SWEEP_GRID_H

#include <stddef.h>

#define SWEEP_MAX_AXES   16
#define SWEEP_MAX_VALUES 64
#define SWEEP_MAX_COMBOS 100000

typedef struct sweep_axis {
    char key[128];
    int nvalues;
    char values[SWEEP_MAX_VALUES][128];
} sweep_axis;

typedef struct sweep_grid {
    int naxes;
    sweep_axis axes[SWEEP_MAX_AXES];
} sweep_grid;

/* Adds one axis from "KEY=v1,v2".  0, or -1 with a one-line reason. */
int sweep_grid_add(sweep_grid *g, const char *spec, char *err, size_t errlen);
/* Number of combinations (1 for an empty grid). */
size_t sweep_grid_count(const sweep_grid *g);
/* Combination i (0-based) as "K=V K=V" in axis order.  0 or -1 (range). */
int sweep_grid_env(const sweep_grid *g, size_t i, char *buf, size_t len);
/* The grid as text for sweeps.grid: "K=v1,v2; K2=..." */
void sweep_grid_text(const sweep_grid *g, char *buf, size_t len);

#endif
