/* slow_malloc.c - preloaded after the recorder by loss.sh, so that the
 * recorder's "real" malloc is this one: a request of SLOW_MALLOC_SIZE
 * bytes blocks (sleeping, not runnable) inside the recorder's interposed
 * call until the program sets slow_malloc_state to 2, or for
 * slow_malloc_hold_ms when the program set that.  Lets a test hold a
 * thread inside an allocation call while recording stops (progs/
 * exit_midcall.c).  Everything else goes straight to the C library. */
#include <stddef.h>
#include <time.h>

#define SLOW_MALLOC_SIZE 777777

extern void *__libc_malloc(size_t n);

/* 0 idle, 1 a call is blocked inside, 2 let it return */
__attribute__((visibility("default"))) volatile int slow_malloc_state;
__attribute__((visibility("default"))) volatile int slow_malloc_hold_ms;

__attribute__((visibility("default"))) void *malloc(size_t n)
{
    if (n == SLOW_MALLOC_SIZE) {
        slow_malloc_state = 1;
        for (int ms = 0; slow_malloc_state != 2; ms++) {
            if (slow_malloc_hold_ms > 0 && ms >= slow_malloc_hold_ms)
                break;
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return __libc_malloc(n);
}
