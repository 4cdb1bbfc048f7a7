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

/* "none", "first", "pages", "all"; "?" for a value out of range. */
const char *hak_touch_name(int t);
/* 0 with *out set, or -1 when s names no policy. */
int hak_touch_parse(const char *s, hak_touch *out);

#endif
