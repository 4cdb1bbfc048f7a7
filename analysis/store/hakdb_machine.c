/* hakdb_machine.c - describes this machine for the machines table: CPU,
 * memory, kernel, THP mode, and which perf counters perf_event_open can
 * open here (each attempted for real; a failure is stored with its reason
 * so a NULL counter in a run can be explained). */
#include "hakdb_int.h"
#include "hak_util.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

typedef struct counter_def {
    const char *name;
    uint32_t type;
    uint64_t config;
} counter_def;

#define HW_CACHE(c, op, res) \
    ((c) | ((uint64_t)(op) << 8) | ((uint64_t)(res) << 16))

/* The counters the replayer reads (issue 5), by their perf names. */
static const counter_def counters[] = {
    {"page-faults", PERF_TYPE_SOFTWARE, PERF_COUNT_SW_PAGE_FAULTS},
    {"cycles", PERF_TYPE_HARDWARE, PERF_COUNT_HW_CPU_CYCLES},
    {"instructions", PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS},
    {"dTLB-load-misses", PERF_TYPE_HW_CACHE,
     HW_CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)},
    {"dTLB-store-misses", PERF_TYPE_HW_CACHE,
     HW_CACHE(PERF_COUNT_HW_CACHE_DTLB, PERF_COUNT_HW_CACHE_OP_WRITE, PERF_COUNT_HW_CACHE_RESULT_MISS)},
    {"iTLB-load-misses", PERF_TYPE_HW_CACHE,
     HW_CACHE(PERF_COUNT_HW_CACHE_ITLB, PERF_COUNT_HW_CACHE_OP_READ, PERF_COUNT_HW_CACHE_RESULT_MISS)},
};
#define NCOUNTERS (sizeof counters / sizeof *counters)

static void probe_counter(const counter_def *c, int *avail, char *reason, size_t len)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.size = sizeof attr;
    attr.type = c->type;
    attr.config = c->config;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    long fd = syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
    if (fd >= 0) {
        close((int)fd);
        *avail = 1;
        reason[0] = 0;
        return;
    }
    int e = errno;
    *avail = 0;
    const char *why;
    switch (e) {
    case ENOENT: why = "event not supported (no hardware PMU or unknown event)"; break;
    case EOPNOTSUPP: why = "event not supported by this PMU"; break;
    case ENODEV: why = "no such PMU"; break;
    case EACCES:
    case EPERM: why = "not permitted (kernel.perf_event_paranoid or seccomp)"; break;
    case ENOSYS: why = "perf_event_open not available in this kernel"; break;
    default: why = strerror(e); break;
    }
    snprintf(reason, len, "perf_event_open: %s: %s", strerrorname_np(e) ? strerrorname_np(e) : "error", why);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = 0;
}

static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    trim(buf);
    return 0;
}

/* "always [madvise] never" -> "madvise" */
static int bracketed(const char *path, char *out, size_t len)
{
    char line[256];
    if (read_line(path, line, sizeof line) != 0)
        return -1;
    char *a = strchr(line, '['), *b = a ? strchr(a, ']') : NULL;
    if (!a || !b)
        return -1;
    *b = 0;
    snprintf(out, len, "%s", a + 1);
    return 0;
}

static void cpu_model(char *out, size_t len)
{
    out[0] = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                c++;
                while (*c == ' ')
                    c++;
                trim(c);
                snprintf(out, len, "%s", c);
            }
            break;
        }
    }
    fclose(f);
}

typedef struct machine_info {
    char hostname[256], cpu[256], kernel[256], thp[32], defrag[32], machine_id[64];
    int64_t cores, mem_bytes, page_size;
    int avail[NCOUNTERS];
    char reason[NCOUNTERS][160];
    char counters_csv[256];
    char hash[17];
} machine_info;

static void detect(machine_info *m)
{
    memset(m, 0, sizeof *m);
    if (gethostname(m->hostname, sizeof m->hostname - 1) != 0)
        m->hostname[0] = 0;
    cpu_model(m->cpu, sizeof m->cpu);
    struct utsname u;
    if (uname(&u) == 0)
        snprintf(m->kernel, sizeof m->kernel, "%s", u.release);
    if (bracketed("/sys/kernel/mm/transparent_hugepage/enabled", m->thp, sizeof m->thp) != 0)
        m->thp[0] = 0;
    if (bracketed("/sys/kernel/mm/transparent_hugepage/defrag", m->defrag, sizeof m->defrag) != 0)
        m->defrag[0] = 0;
    if (read_line("/etc/machine-id", m->machine_id, sizeof m->machine_id) != 0)
        m->machine_id[0] = 0;
    m->cores = sysconf(_SC_NPROCESSORS_ONLN);
    m->page_size = sysconf(_SC_PAGESIZE);
    m->mem_bytes = (int64_t)sysconf(_SC_PHYS_PAGES) * m->page_size;
    for (size_t i = 0; i < NCOUNTERS; i++) {
        probe_counter(&counters[i], &m->avail[i], m->reason[i], sizeof m->reason[i]);
        if (m->avail[i]) {
            size_t n = strlen(m->counters_csv);
            snprintf(m->counters_csv + n, sizeof m->counters_csv - n, "%s%s",
                     n ? "," : "", counters[i].name);
        }
    }
    char blob[2048];
    int n = snprintf(blob, sizeof blob, "%s|%s|%s|%s|%s|%s|%lld|%lld|%lld|%s",
                     m->hostname, m->cpu, m->kernel, m->thp, m->defrag, m->machine_id,
                     (long long)m->cores, (long long)m->mem_bytes, (long long)m->page_size,
                     m->counters_csv);
    snprintf(m->hash, sizeof m->hash, "%016llx",
             (unsigned long long)hak_hash64(blob, (size_t)n, 0x6d616368696e65ull));
}

typedef struct { machine_info *m; int64_t id; } machine_arg;

static int machine_body(hakdb *db, void *p)
{
    machine_arg *a = p;
    machine_info *m = a->m;
    sqlite3_stmt *st;
    int rc = hakdb_prepare(db, &st, "SELECT id FROM machines WHERE hash = ?");
    if (rc)
        return rc;
    hakdb_bind_text(st, 1, m->hash);
    rc = sqlite3_step(st);
    a->id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return rc;
    if (a->id >= 0)
        return SQLITE_OK;
    char now[32];
    hakdb_iso_time(HAKDB_NULL, now);
    rc = hakdb_prepare(db, &st,
        "INSERT INTO machines(hash, hostname, cpu_model, cores, mem_bytes, page_size,"
        " kernel, thp_mode, thp_defrag, counters, created_at) VALUES(?,?,?,?,?,?,?,?,?,?,?)");
    if (rc)
        return rc;
    hakdb_bind_text(st, 1, m->hash);
    hakdb_bind_text(st, 2, m->hostname[0] ? m->hostname : NULL);
    hakdb_bind_text(st, 3, m->cpu[0] ? m->cpu : NULL);
    hakdb_bind_i64(st, 4, m->cores > 0 ? m->cores : HAKDB_NULL);
    hakdb_bind_i64(st, 5, m->mem_bytes > 0 ? m->mem_bytes : HAKDB_NULL);
    hakdb_bind_i64(st, 6, m->page_size > 0 ? m->page_size : HAKDB_NULL);
    hakdb_bind_text(st, 7, m->kernel[0] ? m->kernel : NULL);
    hakdb_bind_text(st, 8, m->thp[0] ? m->thp : NULL);
    hakdb_bind_text(st, 9, m->defrag[0] ? m->defrag : NULL);
    hakdb_bind_text(st, 10, m->counters_csv);
    hakdb_bind_text(st, 11, now);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return rc;
    a->id = sqlite3_last_insert_rowid(db->db);
    rc = hakdb_prepare(db, &st,
        "INSERT INTO machine_counters(machine_id, name, available, reason) VALUES(?,?,?,?)");
    if (rc)
        return rc;
    for (size_t i = 0; i < NCOUNTERS && rc == SQLITE_OK; i++) {
        sqlite3_bind_int64(st, 1, a->id);
        hakdb_bind_text(st, 2, counters[i].name);
        sqlite3_bind_int(st, 3, m->avail[i]);
        hakdb_bind_text(st, 4, m->avail[i] ? NULL : m->reason[i]);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db->db);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return rc;
}

int64_t hakdb_upsert_machine(hakdb *db)
{
    db->err[0] = 0;
    machine_info m;
    detect(&m);
    machine_arg a = {&m, -1};
    if (hakdb_tx(db, "upsert machine", machine_body, &a) != 0)
        return -1;
    return a.id;
}
