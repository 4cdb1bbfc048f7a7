/* heap_rss.c - heap-only RSS from /proc/PID/smaps (see heap_rss.h). */
#include "heap_rss.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

enum { C_OTHER, C_BRK, C_ANON, C_BSS, C_STACK, C_OWN };

void hak_heap_rss_begin(hak_heap_rss_parser *p)
{
    memset(p, 0, sizeof *p);
    p->prev_end = UINT64_MAX;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* "start-end perms offset dev inode   path": fills the fields, 0 when the
 * line is not a mapping header (a "Key: value" field line). */
static int parse_header(const char *s, uint64_t *start, uint64_t *end, char *perms,
                        uint64_t *inode, const char **path)
{
    uint64_t v[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        int d, n = 0;
        while ((d = hexval(*s)) >= 0) {
            v[k] = v[k] << 4 | (uint64_t)d;
            s++, n++;
        }
        if (!n || *s != (k ? ' ' : '-'))
            return 0;
        s++;
    }
    for (int i = 0; i < 4; i++)
        perms[i] = s[i] ? s[i] : '-';
    /* skip perms, offset, dev */
    for (int f = 0; f < 3; f++) {
        while (*s && *s != ' ') s++;
        while (*s == ' ') s++;
    }
    uint64_t ino = 0;
    while (*s >= '0' && *s <= '9')
        ino = ino * 10 + (uint64_t)(*s++ - '0');
    while (*s == ' ') s++;
    *start = v[0], *end = v[1], *inode = ino, *path = s;
    return 1;
}

static void header(hak_heap_rss_parser *p, uint64_t start, uint64_t end, const char *perms,
                   uint64_t inode, const char *path)
{
    int file = inode != 0 || (path[0] == '/');
    int priv = perms[3] == 'p';
    int c = C_OTHER;
    if (!strcmp(path, "[heap]"))
        c = C_BRK;
    else if (!strcmp(path, "[stack]"))
        c = C_STACK;
    else if (!strncmp(path, "[anon:hakrec", 12))
        c = C_OWN;
    else if (!file && priv && (!path[0] || !strncmp(path, "[anon:", 6)))
        c = p->prev_file && p->prev_end == start ? C_BSS : C_ANON;
    p->cur = c;
    p->prev_end = end;
    p->prev_file = file;
    p->out.mappings++;
}

static void line_done(hak_heap_rss_parser *p)
{
    p->line[p->len < sizeof p->line ? p->len : sizeof p->line - 1] = 0;
    const char *s = p->line;
    p->len = 0;
    uint64_t start, end, inode;
    char perms[4];
    const char *path;
    if (parse_header(s, &start, &end, perms, &inode, &path)) {
        header(p, start, end, perms, inode, path);
        return;
    }
    if (strncmp(s, "Rss:", 4))
        return;
    uint64_t kb = 0;
    for (s += 4; *s == ' ' || *s == '\t'; s++)
        ;
    while (*s >= '0' && *s <= '9')
        kb = kb * 10 + (uint64_t)(*s++ - '0');
    uint64_t b = kb * 1024;
    p->out.total += b;
    switch (p->cur) {
    case C_BRK:   p->out.brk += b; break;
    case C_ANON:  p->out.anon += b; break;
    case C_BSS:   p->out.bss += b; break;
    case C_STACK: p->out.stack += b; break;
    case C_OWN:   p->out.own += b; break;
    default: break;
    }
}

void hak_heap_rss_feed(hak_heap_rss_parser *p, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n') {
            line_done(p);
        } else {
            if (p->len < sizeof p->line - 1)
                p->line[p->len] = buf[i];
            p->len++;
        }
    }
}

hak_heap_rss hak_heap_rss_end(hak_heap_rss_parser *p)
{
    if (p->len)
        line_done(p);
    return p->out;
}

int hak_heap_rss_read(int pid, hak_heap_rss *out)
{
    char path[64];
    if (pid)
        snprintf(path, sizeof path, "/proc/%d/smaps", pid);
    else
        snprintf(path, sizeof path, "/proc/self/smaps");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    hak_heap_rss_parser p;
    hak_heap_rss_begin(&p);
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        hak_heap_rss_feed(&p, buf, (size_t)n);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return -1;
    }
    *out = hak_heap_rss_end(&p);
    if (!out->mappings) {           /* a zombie or kernel thread: nothing mapped */
        errno = ENOENT;
        return -1;
    }
    return 0;
}
