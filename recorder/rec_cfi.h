/* rec_cfi.h - how to step out of a frame, read from the program's own
 * unwind tables (.eh_frame via PT_GNU_EH_FRAME), for rec_stacks.c's walk.
 *
 * A rule answers, for one return address, where the caller's frame is:
 *   CFA = (RSP or RBP of this frame) + cfa_off,
 *   caller's return address at CFA - 8,
 *   caller's RBP saved at CFA - 8*rbp_slot (rbp_slot 0: RBP unchanged).
 * That is the whole DWARF CFI row for the frames compilers emit at call
 * sites on x86-64.  Anything else (a CFA given by an expression, a signal
 * trampoline, RBP or the return address in another register, no FDE at
 * all) is REC_CFI_OTHER: the walk does not guess, it hands the whole stack
 * to libunwind.  A return address in no loaded object, or in one whose
 * .eh_frame has no FDE for it, is REC_CFI_NONE: nothing can step out of
 * that frame exactly (libunwind would guess from RBP), so the stack is
 * cut after it and marked (HAK_SITE_CUT).  The row is the one covering ra - 1 (the call instruction),
 * as libunwind does for return addresses, so a call to a noreturn function
 * at the end of a function finds its own FDE. */
#ifndef HAK_REC_CFI_H
#define HAK_REC_CFI_H

#include <stdint.h>

#include "trace.h"

enum {
    REC_CFI_OK = 1,       /* a rule: step with it */
    REC_CFI_END = 2,      /* the return address is undefined: outermost frame */
    REC_CFI_OTHER = 3,    /* not expressible as a rule: use libunwind */
    REC_CFI_NONE = 4,     /* no unwind information at all: the stack is cut */
};

/* Packed rule, never 0 (0 means "not known" in rec_stacks.c's tables):
 * bits 0-2 kind, bit 3 CFA from RBP, bits 4-11 rbp_slot, bits 12-31
 * cfa_off (below 1 MiB; larger frames are REC_CFI_OTHER). */
static inline unsigned rec_cfi_kind(uint32_t r) { return r & 7; }
static inline int rec_cfi_cfa_rbp(uint32_t r) { return (r >> 3) & 1; }
static inline unsigned rec_cfi_rbp_slot(uint32_t r) { return (r >> 4) & 0xff; }
static inline uint32_t rec_cfi_cfa_off(uint32_t r) { return r >> 12; }

/* The rule for return address ra.  Slow (dl_iterate_phdr, then the FDE's
 * CFI program); the caller caches it per ra and serialises calls with the
 * loader (rec_stacks.c holds unwind_mu). */
uint32_t rec_cfi_rule(uintptr_t ra) __attribute__((visibility("hidden")));

#endif /* HAK_REC_CFI_H */
