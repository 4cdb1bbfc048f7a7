/* touch.c - the touch policies' names (touch.h). */
#include "touch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[HAK_TOUCH_COUNT] = {"none", "first", "pages", "all"};

const char *hak_touch_name(int t)
{
    return t >= 0 && t < HAK_TOUCH_COUNT ? names[t] : "?";
}

int hak_touch_parse(const char *s, hak_touch *out)
{
    for (int t = 0; t < HAK_TOUCH_COUNT; t++)
        if (s && !strcmp(s, names[t])) {
            *out = (hak_touch)t;
            return 0;
        }
    return -1;
}

unsigned hak_touch_part_of(double f)
{
    long h = (long)(f * 100 + 0.5);          /* hundredths */
    if (h >= 100)
        return HAK_TOUCH_WHOLE;
    if (h < 1)
        h = 1;
    return (unsigned)((h * HAK_TOUCH_PART_ONE + 50) / 100);
}

const char *hak_touch_label(int t, unsigned part, char *buf, unsigned long n)
{
    if (t != HAK_TOUCH_PAGES || part == HAK_TOUCH_WHOLE || part >= HAK_TOUCH_PART_ONE)
        snprintf(buf, n, "%s", hak_touch_name(t));
    else
        snprintf(buf, n, "pages:%.2f", (double)part / HAK_TOUCH_PART_ONE);
    return buf;
}

int hak_touch_parse_part(const char *s, hak_touch *t, unsigned *part)
{
    *part = HAK_TOUCH_WHOLE;
    if (!s || strncmp(s, "pages:", 6))
        return hak_touch_parse(s, t);
    const char *v = s + 6, *dot = strchr(v, '.');
    char *end;
    double f = strtod(v, &end);
    /* "0.5", "0.42": no exponent, no third decimal, strictly between 0 and 1 */
    if (end == v || *end || !dot || strlen(dot + 1) > 2 || strspn(v, "0123456789.") != strlen(v) ||
        !(f > 0 && f < 1))
        return -1;
    *t = HAK_TOUCH_PAGES;
    *part = hak_touch_part_of(f);
    return 0;
}
