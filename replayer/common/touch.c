/* touch.c - the touch policies' names (touch.h). */
#include "touch.h"

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
