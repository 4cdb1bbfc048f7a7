/* cli_out.c - see cli_out.h. */
#include "cli_out.h"
#include "hak_util.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int is_stdout(const char *path)
{
    return !strcmp(path, "-");
}

hak_trace_writer *cli_out_open(const char *cmd, const char *path, const hak_trace_meta *meta)
{
    char c[64], err[512] = "";
    snprintf(c, sizeof c, "trace %s", cmd);
    hak_trace_writer *w;
    if (is_stdout(path)) {
        if (isatty(1)) {
            hak_cmd_err(c, "refusing to write a binary trace to a terminal; use -o FILE");
            return NULL;
        }
        int fd = dup(1);
        w = fd < 0 ? NULL : hak_tw_open_fd(fd, meta, err, sizeof err);
    } else {
        w = hak_tw_open(path, meta, err, sizeof err);
    }
    if (!w && err[0] && hak_msg_names_path(err, path))   /* the writer named it */
        hak_cmd_err(c, "%s", err);
    else if (!w)
        hak_cmd_err(c, "%s: %s", path, err[0] ? err : "cannot create");
    return w;
}

int cli_out_close(const char *cmd, const char *path, hak_trace_writer *w, int failed)
{
    char c[64];
    snprintf(c, sizeof c, "trace %s", cmd);
    if (hak_tw_close(w) && !failed) {
        hak_cmd_err(c, "%s: cannot finish the trace", path);
        failed = 1;
    }
    if (failed && !is_stdout(path))
        unlink(path);
    return failed ? -1 : 0;
}
