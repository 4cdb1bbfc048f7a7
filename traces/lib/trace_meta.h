/* trace_meta.h - metadata block encoding (internal to traces/). */
#ifndef HAK_TRACE_META_H
#define HAK_TRACE_META_H

#include <stddef.h>
#include <stdint.h>

#include "trace.h"

/* Encodes m (NULL = empty) into a malloc'd buffer; NULL on OOM/too big. */
uint8_t *tf_meta_encode(const hak_trace_meta *m, size_t *len);
/* Decodes into m; strings and argv are malloc'd (tf_meta_free).  m->version
 * is kept.  0, or -1 with a static reason in *why. */
int tf_meta_decode(const uint8_t *p, size_t len, hak_trace_meta *m,
                   const char **why);
void tf_meta_free(hak_trace_meta *m);

#endif
