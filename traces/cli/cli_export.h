/* cli_export.h - `hak trace export`: a trace's per-call-site results in
 * other tools' formats (today pprof, lib/pprof_out.h). */
#ifndef HAK_CLI_EXPORT_H
#define HAK_CLI_EXPORT_H

int trace_export(int argc, char **argv);

#endif
