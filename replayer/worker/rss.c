/* rss.c - resident-set figures from /proc/self (see rss.h). */
#include "rss.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rp_rss_open(void)
{
    return open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
}

int rp_rss_read(int fd, uint64_t *resident, uint64_t *shared)
{
    char buf[256];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *p = buf, *end;
    unsigned long long f[3];
    for (int i = 0; i < 3; i++) {
        f[i] = strtoull(p, &end, 10);
        if (end == p)
            return -1;
        p = end;
    }
    uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
    *resident = f[1] * page;
    *shared = f[2] * page;
    return 0;
}

int rp_rss_reset_peak(void)
{
    int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno;
    int rc = write(fd, "5", 1) == 1 ? 0 : errno;
    close(fd);
    return rc;
}

int64_t rp_status_kb_field(const char *key)
{
    char buf[8192];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    size_t klen = strlen(key);
    for (char *line = buf; line && *line; ) {
        if (!strncmp(line, key, klen) && line[klen] == ':')
            return (int64_t)strtoll(line + klen + 1, NULL, 10) * 1024;
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return -1;
}
