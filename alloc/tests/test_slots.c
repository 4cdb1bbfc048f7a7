/* A thread's cache arrays are carved from its slots mapping when each
 * class is first used (hak_init.c, hak_bin_attach), so the arrays of the
 * classes a thread uses sit together.  Laid out for all 128 classes in
 * class order at heap init, each class in use had the first entries of its
 * array (the ones its stack touches) on a page of its own, or nearly: the
 * suite's small_loop (13 classes) had 56 KiB of arrays resident, 32 now.
 * Checked: in a fresh thread, two classes first used one after the other
 * get arrays a few arrays apart (before: 62 arrays apart for these two). */
#include "alloc_test.h"
#include "hak_internal.h"

#include <pthread.h>

static void *two_classes(void *arg)
{
    long *gap = arg;
    void *a = hak_malloc(24), *b = hak_malloc(1000);
    hak_heap *h = &hak_tls_heap;
    unsigned ca = hak_size_class(24), cb = hak_size_class(1000);
    uint32_t ea = h->bins[ca].empty_lo, eb = h->bins[cb].empty_lo;
    if (h->bins[ca].full_lo == ea || h->bins[cb].full_lo == eb) *gap = -1;    /* no array */
    else *gap = (long)(int32_t)(eb - ea) / (long)sizeof(void *);
    hak_free(a);
    hak_free(b);
    return NULL;
}

static void arrays_of_classes_in_use_are_adjacent(void **state)
{
    (void)state;
    hak_trim(0);        /* no parked heap left: the thread starts a fresh one */
    pthread_t t;
    long gap = 0;
    assert_int_equal(pthread_create(&t, NULL, two_classes, &gap), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    if (gap == -1) fail_msg("a class in use has no cache array");
    if (gap < 0) gap = -gap;
    size_t most = 4 * ((size_t)hak_cfg.cls_cap[1] + 8);   /* 4 arrays of classes up to 1 KiB */
    if ((size_t)gap > most)
        fail_msg("the arrays of two classes used in a row are %ld entries apart (want <= %zu)", gap, most);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arrays_of_classes_in_use_are_adjacent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
