/* report_validation.h - the "Replay validity" part of `hak report`: the
 * latest `hak validate` results (validations, validation_values,
 * validation_rankings), as text or as an HTML section. */
#ifndef REPORT_VALIDATION_H
#define REPORT_VALIDATION_H

#include <stdio.h>

#include "hakdb.h"

/* label: only validations with this label (NULL = all).  The latest
 * RPV_MAX of them, newest first; nothing when there are none. */
#define RPV_MAX 10
void rpt_validation_text(hakdb *db, const char *label, FILE *out);
void rpt_validation_html(hakdb *db, const char *label, FILE *out);

#endif
