/* steady RATE MS: one thread makes malloc/free pairs (sizes 16-1039) at
 * RATE events a second for MS milliseconds, in bursts every 5 ms that
 * catch up with the clock (a thread kept off the CPU on a loaded machine
 * makes up for it): a steady rate between a slow program and one that
 * fills an event block (65536 events) within the writer's 90 ms look,
 * the python3 kind (record.sh counts the chunks it gets). */
#include <stdlib.h>
#include <time.h>

static void *volatile sink;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 300000, ms = argc > 2 ? atof(argv[2]) : 1500;
    if (rate <= 0 || ms <= 0)
        return 2;
    unsigned seed = 1;
    double t0 = now_s(), t;
    long done = 0;
    while ((t = now_s() - t0) < ms / 1000) {
        for (long due = (long)(t * rate / 2); done < due; done++) {
            seed = seed * 1103515245u + 12345u;
            sink = malloc(16 + (seed >> 16) % 1024);
            free(sink);
        }
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}
