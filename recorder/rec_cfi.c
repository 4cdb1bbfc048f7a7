/* rec_cfi.c - one return address's unwind rule from .eh_frame (rec_cfi.h).
 *
 * The object holding ra is found with dl_iterate_phdr; its
 * PT_GNU_EH_FRAME segment (.eh_frame_hdr: version 1 with a datarel sdata4
 * table, what the linkers write) has a sorted table of FDE start
 * addresses, searched for ra - 1.  The FDE's CIE and FDE CFI programs are
 * run up to the row covering ra - 1, tracking only what a step needs: the
 * CFA register and offset, where RBP is saved and where the return
 * address is saved.  Every construct outside that subset makes the rule
 * REC_CFI_OTHER (then libunwind unwinds that stack), so a rule is either
 * exactly the table's row or not used. */
#include "rec_cfi.h"

#include <link.h>
#include <stddef.h>
#include <string.h>

#define REG_RBP 6
#define REG_RSP 7
#define REG_RA  16

typedef struct cursor { const uint8_t *p, *end; int bad; } cursor;

static uint64_t uleb(cursor *c)
{
    uint64_t v = 0;
    for (unsigned shift = 0; c->p < c->end; shift += 7) {
        uint8_t b = *c->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    c->bad = 1;
    return 0;
}

static int64_t sleb(cursor *c)
{
    uint64_t v = 0;
    unsigned shift = 0;
    while (c->p < c->end) {
        uint8_t b = *c->p++;
        if (shift < 64)
            v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (shift < 64 && (b & 0x40))
                v |= ~(uint64_t)0 << shift;
            return (int64_t)v;
        }
    }
    c->bad = 1;
    return 0;
}

static uint64_t fixed(cursor *c, unsigned n)
{
    if ((size_t)(c->end - c->p) < n) {
        c->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, c->p, n);                 /* little-endian */
    c->p += n;
    return v;
}

/* A DW_EH_PE_* encoded pointer; datarel is relative to `data`. */
static uint64_t enc_ptr(cursor *c, uint8_t enc, uintptr_t data)
{
    if (enc == 0xff) {                   /* omit */
        c->bad = 1;
        return 0;
    }
    uintptr_t here = (uintptr_t)c->p;
    uint64_t v;
    switch (enc & 0x0f) {
    case 0x00: v = fixed(c, 8); break;
    case 0x01: v = uleb(c); break;
    case 0x02: v = fixed(c, 2); break;
    case 0x03: v = fixed(c, 4); break;
    case 0x04: v = fixed(c, 8); break;
    case 0x09: v = (uint64_t)sleb(c); break;
    case 0x0a: v = (uint64_t)(int64_t)(int16_t)fixed(c, 2); break;
    case 0x0b: v = (uint64_t)(int64_t)(int32_t)fixed(c, 4); break;
    case 0x0c: v = fixed(c, 8); break;
    default: c->bad = 1; return 0;
    }
    switch (enc & 0x70) {
    case 0x00: break;
    case 0x10: v += here; break;         /* pcrel */
    case 0x30: v += data; break;         /* datarel */
    default: c->bad = 1; return 0;
    }
    if (enc & 0x80)                      /* indirect */
        v = *(const uint64_t *)(uintptr_t)v;
    return v;
}

/* ---- finding the FDE ------------------------------------------------------ */

typedef struct find { uintptr_t pc, seg_end; const uint8_t *hdr; int found; } find;

static int find_object(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    find *f = arg;
    const ElfW(Phdr) *eh = NULL;
    int inside = 0;
    for (int i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && f->pc >= lo && f->pc - lo < ph->p_memsz) {
            inside = 1;
            f->seg_end = lo + ph->p_memsz;
        }
        else if (ph->p_type == PT_GNU_EH_FRAME)
            eh = ph;
    }
    if (!inside)
        return 0;
    f->found = 1;
    f->hdr = eh ? (const uint8_t *)(info->dlpi_addr + eh->p_vaddr) : NULL;
    return 1;
}

/* The FDE covering pc from the object's sorted table; NULL when none. */
static const uint8_t *fde_of(const uint8_t *hdr, uintptr_t pc)
{
    cursor c = {hdr + 4, hdr + 4 + 16, 0};
    enc_ptr(&c, hdr[1], (uintptr_t)hdr);             /* eh_frame_ptr */
    uint64_t n = enc_ptr(&c, hdr[2], (uintptr_t)hdr);
    if (c.bad || n == 0)
        return NULL;
    const int32_t *tab = (const int32_t *)c.p;       /* (start, fde) pairs */
    uint64_t lo = 0, hi = n;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if ((uintptr_t)hdr + tab[2 * mid] <= pc)
            lo = mid;
        else
            hi = mid;
    }
    if ((uintptr_t)hdr + tab[2 * lo] > pc)
        return NULL;
    return hdr + tab[2 * lo + 1];
}

/* ---- running the CFI program ----------------------------------------------- */

enum { R_SAME, R_OFFSET, R_UNDEF, R_OTHER };

typedef struct row {
    int cfa_reg;                         /* REG_RSP, REG_RBP, or -1 (other) */
    int64_t cfa_off;
    int rbp, ra;                         /* R_* */
    int64_t rbp_off, ra_off;             /* offsets from the CFA when R_OFFSET */
} row;

typedef struct cie {
    uint64_t code_align;
    int64_t data_align;
    uint64_t ra_reg;
    uint8_t fde_enc;
    int aug_z, signal;
    cursor insns;
} cie;

static int parse_cie(const uint8_t *p, cie *ci)
{
    uint64_t len = *(const uint32_t *)p;
    p += 4;
    if (len == 0xffffffff) {
        len = *(const uint64_t *)p;
        p += 8;
        if (*(const uint64_t *)p != 0)
            return -1;
        p += 8;
        len -= 8;
    } else {
        if (*(const uint32_t *)p != 0)   /* CIE id */
            return -1;
        p += 4;
        len -= 4;
    }
    cursor c = {p, p + len, 0};
    uint8_t version = (uint8_t)fixed(&c, 1);
    const char *aug = (const char *)c.p;
    size_t alen = strnlen(aug, (size_t)(c.end - c.p));
    c.p += alen + 1;
    if (version != 1 && version != 3 && version != 4)
        return -1;
    if (version == 4)
        c.p += 2;                        /* address size, segment size */
    ci->code_align = uleb(&c);
    ci->data_align = sleb(&c);
    ci->ra_reg = version == 1 ? fixed(&c, 1) : uleb(&c);
    ci->fde_enc = 0;                     /* absptr */
    ci->aug_z = ci->signal = 0;
    const uint8_t *aug_end = NULL;
    for (const char *a = aug; *a; a++) {
        if (*a == 'z' && a == aug) {
            uint64_t n = uleb(&c);
            ci->aug_z = 1;
            aug_end = c.p + n;
        } else if (*a == 'R') {
            ci->fde_enc = (uint8_t)fixed(&c, 1);
        } else if (*a == 'L') {
            fixed(&c, 1);
        } else if (*a == 'P') {
            uint8_t e = (uint8_t)fixed(&c, 1);
            enc_ptr(&c, e & 0x7f, 0);    /* skip it; never dereferenced */
        } else if (*a == 'S') {
            ci->signal = 1;
        } else {
            return -1;                   /* unknown augmentation */
        }
    }
    if (aug_end)
        c.p = aug_end;
    if (c.bad || c.p > c.end || !ci->aug_z)
        return -1;
    ci->insns = c;
    return 0;
}

#define STATE_DEPTH 8

typedef struct interp {
    row cur, init;
    row stack[STATE_DEPTH];
    int depth;
    const cie *ci;
    uintptr_t loc, target;
} interp;

static void set_reg(interp *s, uint64_t reg, int rule, int64_t off)
{
    if (reg == REG_RBP) {
        s->cur.rbp = rule;
        s->cur.rbp_off = off;
    } else if (reg == s->ci->ra_reg) {
        s->cur.ra = rule;
        s->cur.ra_off = off;
    }
}

static void restore_reg(interp *s, uint64_t reg)
{
    if (reg == REG_RBP) {
        s->cur.rbp = s->init.rbp;
        s->cur.rbp_off = s->init.rbp_off;
    } else if (reg == s->ci->ra_reg) {
        s->cur.ra = s->init.ra;
        s->cur.ra_off = s->init.ra_off;
    }
}

/* Runs c until the row covering s->target is complete.  0 = done (end of
 * program or a row boundary past the target), -1 = unsupported. */
static int run(interp *s, cursor *c)
{
    const cie *ci = s->ci;
    while (c->p < c->end && !c->bad) {
        uint8_t op = *c->p++;
        uint64_t reg, delta = 0;
        int advance = 0;
        switch (op & 0xc0) {
        case 0x40: delta = (op & 0x3f) * ci->code_align; advance = 1; break;
        case 0x80: set_reg(s, op & 0x3f, R_OFFSET, (int64_t)uleb(c) * ci->data_align); continue;
        case 0xc0: restore_reg(s, op & 0x3f); continue;
        default: break;
        }
        if (!advance) {
            switch (op) {
            case 0x00: continue;                                   /* nop */
            case 0x01: {                                           /* set_loc */
                uint64_t to = enc_ptr(c, ci->fde_enc, 0);
                if (to > s->target)
                    return 0;
                s->loc = to;
                continue;
            }
            case 0x02: delta = fixed(c, 1) * ci->code_align; advance = 1; break;
            case 0x03: delta = fixed(c, 2) * ci->code_align; advance = 1; break;
            case 0x04: delta = fixed(c, 4) * ci->code_align; advance = 1; break;
            case 0x05: reg = uleb(c); set_reg(s, reg, R_OFFSET, (int64_t)uleb(c) * ci->data_align); continue;
            case 0x06: restore_reg(s, uleb(c)); continue;
            case 0x07: set_reg(s, uleb(c), R_UNDEF, 0); continue;
            case 0x08: set_reg(s, uleb(c), R_SAME, 0); continue;
            case 0x09: reg = uleb(c); uleb(c); set_reg(s, reg, R_OTHER, 0); continue;
            case 0x0a:                                             /* remember_state */
                if (s->depth == STATE_DEPTH)
                    return -1;
                s->stack[s->depth++] = s->cur;
                continue;
            case 0x0b:                                             /* restore_state */
                if (s->depth == 0)
                    return -1;
                s->cur = s->stack[--s->depth];   /* the CFA too, as libunwind */
                continue;
            case 0x0c: s->cur.cfa_reg = (int)uleb(c); s->cur.cfa_off = (int64_t)uleb(c); continue;
            case 0x0d: s->cur.cfa_reg = (int)uleb(c); continue;
            case 0x0e: s->cur.cfa_off = (int64_t)uleb(c); continue;
            case 0x0f: {                                           /* def_cfa_expression */
                uint64_t n = uleb(c);
                c->p += n;
                s->cur.cfa_reg = -1;
                continue;
            }
            case 0x10: case 0x16: {                                /* (val_)expression */
                reg = uleb(c);
                uint64_t n = uleb(c);
                c->p += n;
                set_reg(s, reg, R_OTHER, 0);
                continue;
            }
            case 0x11: reg = uleb(c); set_reg(s, reg, R_OFFSET, sleb(c) * ci->data_align); continue;
            case 0x12: s->cur.cfa_reg = (int)uleb(c); s->cur.cfa_off = sleb(c) * ci->data_align; continue;
            case 0x13: s->cur.cfa_off = sleb(c) * ci->data_align; continue;
            case 0x14: reg = uleb(c); uleb(c); set_reg(s, reg, R_OTHER, 0); continue;
            case 0x15: reg = uleb(c); sleb(c); set_reg(s, reg, R_OTHER, 0); continue;
            case 0x2e: uleb(c); continue;                          /* GNU_args_size */
            case 0x2f: reg = uleb(c); set_reg(s, reg, R_OFFSET, -(int64_t)uleb(c) * ci->data_align); continue;
            default: return -1;
            }
        }
        if (s->loc + delta > s->target)
            return 0;                    /* the next row starts past the target */
        s->loc += delta;
    }
    return c->bad || c->p > c->end ? -1 : 0;
}

static uint32_t pack(const row *r)
{
    if (r->ra == R_UNDEF)
        return REC_CFI_END;
    if (r->ra != R_OFFSET || r->ra_off != -8)
        return REC_CFI_OTHER;
    if (r->cfa_reg != REG_RSP && r->cfa_reg != REG_RBP)
        return REC_CFI_OTHER;
    if (r->cfa_off < 16 || r->cfa_off >= (1 << 20))
        return REC_CFI_OTHER;
    uint32_t slot = 0;
    if (r->rbp == R_OFFSET) {
        if (r->rbp_off >= 0 || (-r->rbp_off) % 8 || -r->rbp_off / 8 > 255)
            return REC_CFI_OTHER;
        slot = (uint32_t)(-r->rbp_off / 8);
    } else if (r->rbp != R_SAME) {
        return REC_CFI_OTHER;
    }
    return REC_CFI_OK | (uint32_t)(r->cfa_reg == REG_RBP) << 3 | slot << 4 |
           (uint32_t)r->cfa_off << 12;
}

/* glibc's x86-64 signal return trampoline, __restore_rt: mov $15, %rax;
 * syscall.  A signal handler returns there; libunwind recognises the
 * frame by these bytes too. */
static int is_sigreturn(uintptr_t ip, uintptr_t seg_end)
{
    static const uint8_t code[9] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
    return ip + sizeof code <= seg_end && !memcmp((const void *)ip, code, sizeof code);
}

uint32_t rec_cfi_rule(uintptr_t ra)
{
    uintptr_t pc = ra - 1;
    find f = {pc, 0, NULL, 0};
    dl_iterate_phdr(find_object, &f);
    if (!f.found)
        return REC_CFI_NONE;         /* no object: JIT code, or not code */
    if (is_sigreturn(ra, f.seg_end))
        return REC_CFI_OTHER;
    if (!f.hdr)
        return REC_CFI_NONE;
    if (f.hdr[0] != 1 || f.hdr[3] != 0x3b)
        return REC_CFI_OTHER;        /* a table this reader does not search */
    const uint8_t *fde = fde_of(f.hdr, pc);
    if (!fde)
        return REC_CFI_NONE;
    uint64_t len = *(const uint32_t *)fde;
    const uint8_t *p = fde + 4;
    if (len == 0xffffffff || len == 0)
        return REC_CFI_OTHER;            /* 64-bit .eh_frame: not emitted on x86-64 */
    const uint8_t *end = p + len;
    uint32_t cie_delta = *(const uint32_t *)p;
    if (cie_delta == 0)
        return REC_CFI_OTHER;            /* a CIE, not an FDE */
    cie ci;
    if (parse_cie(p - cie_delta, &ci) != 0 || ci.signal)
        return REC_CFI_OTHER;
    cursor c = {p + 4, end, 0};
    uintptr_t start = (uintptr_t)enc_ptr(&c, ci.fde_enc, 0);
    uintptr_t range = (uintptr_t)enc_ptr(&c, ci.fde_enc & 0x0f, 0);
    if (c.bad)
        return REC_CFI_OTHER;
    if (pc < start || pc - start >= range)
        return REC_CFI_NONE;         /* between FDEs: code without unwind info */
    uint64_t alen = uleb(&c);
    c.p += alen;
    if (c.bad || c.p > c.end)
        return REC_CFI_OTHER;
    interp s;
    memset(&s, 0, sizeof s);
    s.ci = &ci;
    s.cur.cfa_reg = -1;
    s.cur.rbp = R_SAME;
    s.cur.ra = R_SAME;
    s.loc = start;
    s.target = pc;
    cursor ic = ci.insns;
    if (run(&s, &ic) != 0)
        return REC_CFI_OTHER;
    s.init = s.cur;
    s.loc = start;
    if (run(&s, &c) != 0)
        return REC_CFI_OTHER;
    return pack(&s.cur);
}
