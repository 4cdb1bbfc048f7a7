/* rss.h - resident-set figures of the worker itself, read without malloc
 * (plain open/pread into stack buffers), so they are safe inside the
 * measured window. */
#ifndef RP_RSS_H
#define RP_RSS_H

#include <stdint.h>

/* Opens /proc/self/statm for rp_rss_read; -1 on failure. */
int rp_rss_open(void);
/* Resident bytes and the shared part (file + shmem pages) from statm.
 * Returns 0 or -1. */
int rp_rss_read(int statm_fd, uint64_t *resident, uint64_t *shared);
/* Resets the peak-RSS watermark (writes "5" to /proc/self/clear_refs);
 * returns 0 or an errno value. */
int rp_rss_reset_peak(void);
/* A "Key:   N kB" field of /proc/self/status in bytes ("VmHWM", "RssShmem");
 * -1 when absent. */
int64_t rp_status_kb_field(const char *key);

#endif /* RP_RSS_H */
