/* touch.h - how a replayed or simulated workload writes into the blocks
 * it allocates: one enum and one name table for hak replay, its worker,
 * hak sim and hak sweep (the policies are described in `hak replay
 * --help`).  Libc only: the worker links it. */
#ifndef HAK_TOUCH_H
#define HAK_TOUCH_H

typedef enum hak_touch {
    HAK_TOUCH_NONE,     /* write nothing */
    HAK_TOUCH_FIRST,    /* the first byte */
    HAK_TOUCH_PAGES,    /* one byte per page (the default) */
    HAK_TOUCH_ALL,      /* every byte */
    HAK_TOUCH_COUNT
} hak_touch;

/* For error messages: the accepted names. */
#define HAK_TOUCH_CHOICES "none, first, pages or all"

/* A part of each block for HAK_TOUCH_PAGES, in 1/65536ths: one byte per
 * page over the block's first part bytes (at least its first byte).
 * HAK_TOUCH_WHOLE (0) = the whole block.  A program that writes only the
 * start of its blocks (sqlite3's page cache) holds between what "first"
 * and "pages" replays hold; `--touch auto` fits the part to the
 * recording (replay/touch_auto.h).  Written "pages:F", F in hundredths. */
#define HAK_TOUCH_WHOLE 0u
#define HAK_TOUCH_PART_ONE 65536u

/* "pages:0.42" for (PAGES, part), else the policy's name, into buf. */
const char *hak_touch_label(int t, unsigned part, char *buf, unsigned long n);
/* Parses a name or "pages:F" (0 < F < 1, at most two decimals): 0 with
 * *t and *part set (part HAK_TOUCH_WHOLE unless "pages:F"), or -1. */
int hak_touch_parse_part(const char *s, hak_touch *t, unsigned *part);
/* The part for fraction f (0 < f < 1), rounded to hundredths: the values
 * "pages:F" can name.  HAK_TOUCH_WHOLE when f rounds to 1. */
unsigned hak_touch_part_of(double f);

/* "none", "first", "pages", "all"; "?" for a value out of range. */
const char *hak_touch_name(int t);
/* 0 with *out set, or -1 when s names no policy. */
int hak_touch_parse(const char *s, hak_touch *out);

#endif
