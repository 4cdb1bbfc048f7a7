/* fault_map.c - a live program's page faults by mapping (fault_map.h).
 *
 * One software event per CPU (PERF_COUNT_SW_PAGE_FAULTS_MIN, period 1,
 * the fault address and time in each sample), on the program's pid and
 * inherited by its threads: an inherited per-task event cannot be mapped,
 * a per-CPU one can.  The same events report the program's mappings as
 * it makes them (mmap_data: files, anonymous memory, the brk heap as it
 * grows), so a fault is classed by what was mapped there when it
 * happened, even if it is unmapped later.  Records from the CPUs'
 * buffers are merged by time at each drain; a fault whose mapping is not
 * known yet (its mmap record sits in a buffer read after it) waits for
 * the next drain, and at the last one is classed by /proc/PID/maps. */
#include "fault_map.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* data pages per CPU: 1 MiB, ~43K faults between two drains; fewer where
 * the locked-memory limit for perf buffers refuses that many */
static const int ring_pages[] = {256, 64, 16};
enum { C_HEAP, C_FILE, C_OTHER };    /* a mapping's class: heap, a file, the rest */

typedef struct fm_map { uint64_t start, end; int cls; } fm_map;
typedef struct fm_rec { uint64_t time, addr, len; int kind; int cls; } fm_rec;  /* kind 0 fault, 1 map */

struct rp_fault_map {
    pid_t pid;
    int ncpu, *fd;
    void **ring;
    size_t ring_bytes;
    fm_map *maps;                    /* oldest first; searched newest first */
    size_t nmaps, capmaps;
    fm_rec *recs;                    /* this drain's records, then pending faults */
    size_t nrecs, caprecs;
    rp_fault_counts c;
};

/* A new mapping hides what it covers; older ones inside it go (a program
 * that maps and unmaps at the same addresses, or a growing brk heap, does
 * not grow the list), so lookups stay short. */
static int push_map(rp_fault_map *m, uint64_t start, uint64_t end, int cls)
{
    size_t k = 0;
    for (size_t i = 0; i < m->nmaps; i++)
        if (!(m->maps[i].start >= start && m->maps[i].end <= end))
            m->maps[k++] = m->maps[i];
    m->nmaps = k;
    if (m->nmaps == m->capmaps) {
        size_t cap = m->capmaps ? m->capmaps * 2 : 256;
        fm_map *p = realloc(m->maps, cap * sizeof *p);
        if (!p)
            return -1;
        m->maps = p;
        m->capmaps = cap;
    }
    m->maps[m->nmaps++] = (fm_map){start, end, cls};
    return 0;
}

static int push_rec(rp_fault_map *m, fm_rec r)
{
    if (m->nrecs == m->caprecs) {
        size_t cap = m->caprecs ? m->caprecs * 2 : 4096;
        fm_rec *p = realloc(m->recs, cap * sizeof *p);
        if (!p)
            return -1;
        m->recs = p;
        m->caprecs = cap;
    }
    m->recs[m->nrecs++] = r;
    return 0;
}

/* As heap_rss.h counts: the brk heap and anonymous memory are heap, but
 * not anonymous memory that starts where a file mapping ends (.bss);
 * files, stacks and the kernel's pages are not. */
static int class_of(const rp_fault_map *m, uint64_t start, const char *name)
{
    if (!strcmp(name, "[heap]"))
        return C_HEAP;
    if (!*name || !strcmp(name, "//anon")) {
        for (size_t i = m->nmaps; i-- > 0;)
            if (m->maps[i].end == start)
                return m->maps[i].cls == C_FILE ? C_OTHER : C_HEAP;
        return C_HEAP;
    }
    return name[0] == '[' ? C_OTHER : C_FILE;     /* [stack], [vdso]; a file */
}

/* The class of what is mapped at addr, newest mapping first; -1: none. */
static int lookup(const rp_fault_map *m, uint64_t addr)
{
    for (size_t i = m->nmaps; i-- > 0;)
        if (addr >= m->maps[i].start && addr < m->maps[i].end)
            return m->maps[i].cls;
    return -1;
}

/* /proc/PID/maps as mappings (the start: what exec mapped; the end: what a
 * late fault's mapping was).  0, or -1 when it cannot be read. */
static int read_maps(rp_fault_map *m)
{
    char path[64], line[512];
    snprintf(path, sizeof path, "/proc/%d/maps", (int)m->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        unsigned long long s, e;
        char name[400] = "";
        if (sscanf(line, "%llx-%llx %*s %*s %*s %*s %399[^\n]", &s, &e, name) < 2)
            continue;
        /* a file mapping of .bss's own file: class_of needs it first */
        if (push_map(m, s, e, class_of(m, s, name)) != 0)
            break;
    }
    fclose(f);
    return 0;
}

static long perf_open(struct perf_event_attr *a, pid_t pid, int cpu)
{
    return syscall(SYS_perf_event_open, a, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

rp_fault_map *rp_fault_map_open(pid_t pid, char *err, size_t errlen)
{
    rp_fault_map *m = calloc(1, sizeof *m);
    long ncpu = sysconf(_SC_NPROCESSORS_CONF);
    if (!m || ncpu < 1) {
        snprintf(err, errlen, "out of memory");
        free(m);
        return NULL;
    }
    m->pid = pid;
    m->ncpu = (int)ncpu;
    m->fd = calloc((size_t)ncpu, sizeof *m->fd);
    m->ring = calloc((size_t)ncpu, sizeof *m->ring);
    long page = sysconf(_SC_PAGESIZE);
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_PAGE_FAULTS_MIN;
    a.sample_period = 1;
    a.sample_type = PERF_SAMPLE_TIME | PERF_SAMPLE_ADDR;
    a.mmap = 1;
    a.mmap_data = 1;
    a.sample_id_all = 1;             /* map records carry their time */
    a.inherit = 1;
    a.exclude_hv = 1;
    int opened = 0, e = 0;
    for (int c = 0; m->fd && m->ring && c < m->ncpu; c++) {
        m->fd[c] = -1;
        long fd = perf_open(&a, pid, c);
        if (fd < 0 && (errno == EACCES || errno == EPERM) && !a.exclude_kernel) {
            a.exclude_kernel = 1;    /* perf_event_paranoid 2: user-mode faults only */
            fd = perf_open(&a, pid, c);
        }
        if (fd < 0) {
            e = errno;               /* an offline CPU: ENODEV; the others still count */
            continue;
        }
        void *r = MAP_FAILED;
        for (size_t k = 0; r == MAP_FAILED && k < sizeof ring_pages / sizeof *ring_pages; k++) {
            if (m->ring_bytes && m->ring_bytes != (size_t)(ring_pages[k] + 1) * (size_t)page)
                continue;            /* every CPU's buffer the same size */
            m->ring_bytes = (size_t)(ring_pages[k] + 1) * (size_t)page;
            r = mmap(NULL, m->ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
            if (r == MAP_FAILED && !opened)
                m->ring_bytes = 0;
        }
        if (r == MAP_FAILED) {
            e = errno;
            close((int)fd);
            continue;
        }
        m->fd[c] = (int)fd;
        m->ring[c] = r;
        opened++;
    }
    if (!opened || read_maps(m) != 0) {
        snprintf(err, errlen, "perf_event_open(page-faults, pid %d): %s", (int)pid,
                 opened ? "cannot read its maps" : strerror(e ? e : ENODEV));
        rp_fault_map_close(m, &(rp_fault_counts){0});
        return NULL;
    }
    return m;
}

/* Copies this CPU's new records into m->recs. */
static void read_ring(rp_fault_map *m, int c)
{
    struct perf_event_mmap_page *pg = m->ring[c];
    const unsigned char *data = (const unsigned char *)m->ring[c] + pg->data_offset;
    uint64_t size = pg->data_size, head = __atomic_load_n(&pg->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = pg->data_tail;
    unsigned char buf[4096 + 64];
    while (tail < head) {
        struct perf_event_header h;
        for (size_t i = 0; i < sizeof h; i++)
            ((unsigned char *)&h)[i] = data[(tail + i) % size];
        if (h.size < sizeof h || h.size > sizeof buf)
            break;
        for (size_t i = 0; i < h.size; i++)
            buf[i] = data[(tail + i) % size];
        const uint64_t *u = (const uint64_t *)(buf + sizeof h);
        if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof h + 16) {
            push_rec(m, (fm_rec){u[0], u[1], 0, 0, -1});
        } else if (h.type == PERF_RECORD_MMAP && h.size >= sizeof h + 40) {
            /* u32 pid, tid; u64 addr, len, pgoff; char filename[]; u64 time */
            const char *name = (const char *)(buf + sizeof h + 32);
            uint64_t t;
            memcpy(&t, buf + h.size - 8, 8);
            buf[h.size - 8] = 0;     /* the name ends before the time */
            push_rec(m, (fm_rec){t, u[1], u[2], 1, class_of(m, u[1], name)});
        } else if (h.type == PERF_RECORD_LOST && h.size >= sizeof h + 16) {
            m->c.lost += u[1];
        }
        tail += h.size;
    }
    __atomic_store_n(&pg->data_tail, tail, __ATOMIC_RELEASE);
}

static int by_time(const void *x, const void *y)
{
    const fm_rec *a = x, *b = y;
    if (a->time != b->time)
        return a->time < b->time ? -1 : 1;
    return b->kind - a->kind;        /* a mapping before a fault at the same time */
}

/* final: classes what is still unknown by the maps of now, heap when
 * nothing is mapped there any more (anonymous memory unmapped since: a
 * file's mapping would have had its record). */
static void drain(rp_fault_map *m, int final)
{
    for (int c = 0; c < m->ncpu; c++)
        if (m->ring[c])
            read_ring(m, c);
    qsort(m->recs, m->nrecs, sizeof *m->recs, by_time);
    size_t keep = 0;
    int reread = 0;
    for (size_t i = 0; i < m->nrecs; i++) {
        fm_rec r = m->recs[i];
        if (r.kind == 1) {
            push_map(m, r.addr, r.addr + r.len, r.cls);
            continue;
        }
        int cls = lookup(m, r.addr);
        if (cls < 0 && final && !reread) {
            reread = 1;
            read_maps(m);
            cls = lookup(m, r.addr);
        }
        if (cls < 0 && !final) {
            m->recs[keep++] = r;     /* its mapping's record may come next drain */
            continue;
        }
        m->c.all++;
        m->c.heap += cls == C_HEAP || cls < 0;
    }
    m->nrecs = keep;
}

void rp_fault_map_drain(rp_fault_map *m)
{
    if (m)
        drain(m, 0);
}

void rp_fault_map_exec(rp_fault_map *m)
{
    if (!m)
        return;
    drain(m, 0);
    read_maps(m);
}

void rp_fault_map_close(rp_fault_map *m, rp_fault_counts *out)
{
    memset(out, 0, sizeof *out);
    if (!m)
        return;
    if (m->nmaps)
        drain(m, 1);
    *out = m->c;
    for (int c = 0; m->fd && c < m->ncpu; c++) {
        if (m->ring && m->ring[c])
            munmap(m->ring[c], m->ring_bytes);
        if (m->fd[c] >= 0)
            close(m->fd[c]);
    }
    free(m->fd);
    free(m->ring);
    free(m->maps);
    free(m->recs);
    free(m);
}
