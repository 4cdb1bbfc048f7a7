/* record_inject.c - calling functions inside another process with ptrace
 * (record_inject.h says how and why). */
#include "record_inject.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_GAP   4096u            /* left alone below the stack pointer (red zone+) */
#define SCRATCH_BYTES 32768u           /* strings; the calls' stack starts below */

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* System calls a thread sits in while idle: interrupting one there, it
 * holds no allocator lock and no live vector registers (x86-64 numbers). */
static int idle_syscall(long nr)
{
    switch (nr) {
    case SYS_futex: case SYS_nanosleep: case SYS_clock_nanosleep: case SYS_poll:
    case SYS_ppoll: case SYS_select: case SYS_pselect6: case SYS_epoll_wait:
    case SYS_epoll_pwait: case SYS_read: case SYS_readv: case SYS_recvfrom:
    case SYS_recvmsg: case SYS_accept: case SYS_accept4: case SYS_wait4:
    case SYS_waitid: case SYS_pause: case SYS_rt_sigsuspend: case SYS_rt_sigtimedwait:
    case SYS_msgrcv: case SYS_semtimedop:
#ifdef SYS_epoll_pwait2
    case SYS_epoll_pwait2:
#endif
        return 1;
    default:
        return 0;
    }
}

/* Waits for tid's next stop; the status, -1 when it is gone. */
static int wait_stop(pid_t tid)
{
    int st;
    while (waitpid(tid, &st, __WALL) < 0)
        if (errno != EINTR)
            return -1;
    return st;
}

/* Seizes tid and stops it; its registers into in.  1 when it is idle in a
 * system call (kept stopped), 0 when not (let go), -1 with errno. */
static int try_thread(rec_inject *in, pid_t tid)
{
    if (ptrace(PTRACE_SEIZE, tid, 0, 0) != 0)
        return -1;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) != 0) {
        int e = errno;
        ptrace(PTRACE_DETACH, tid, 0, 0);
        errno = e;
        return -1;
    }
    for (;;) {
        int st = wait_stop(tid);
        if (st < 0 || !WIFSTOPPED(st)) {
            errno = ESRCH;
            return -1;
        }
        if ((st >> 16) == PTRACE_EVENT_STOP)
            break;
        /* a signal arrived first: deliver it and wait for our stop */
        ptrace(PTRACE_CONT, tid, 0, (void *)(long)WSTOPSIG(st));
    }
    if (ptrace(PTRACE_GETREGS, tid, 0, &in->regs) != 0 ||
        ptrace(PTRACE_GETFPREGS, tid, 0, &in->fpregs) != 0) {
        int e = errno;
        ptrace(PTRACE_DETACH, tid, 0, 0);
        errno = e;
        return -1;
    }
    if ((long)in->regs.orig_rax >= 0 && idle_syscall((long)in->regs.orig_rax)) {
        in->tid = tid;
        in->seized = 1;
        return 1;
    }
    ptrace(PTRACE_DETACH, tid, 0, 0);
    return 0;
}

int rec_inject_begin(rec_inject *in, pid_t pid, unsigned timeout_ms, char *err, size_t len)
{
    memset(in, 0, sizeof *in);
    in->pid = pid;
    uint64_t t0 = now_ms();
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
    do {
        DIR *d = opendir(dir);
        if (!d) {
            snprintf(err, len, "no such process");
            errno = ESRCH;
            return -1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] < '0' || e->d_name[0] > '9')
                continue;
            int r = try_thread(in, (pid_t)atoi(e->d_name));
            if (r == 1) {
                closedir(d);
                /* strings go below the red zone, the calls' stack below them */
                in->scratch = ((in->regs.rsp - SCRATCH_GAP - SCRATCH_BYTES) & ~(uint64_t)15);
                return 0;
            }
            if (r < 0 && errno == EPERM) {
                closedir(d);
                snprintf(err, len, "ptrace: %s", strerror(EPERM));
                return -1;
            }
        }
        closedir(d);
        sleep_ms(5);
    } while (now_ms() - t0 < timeout_ms);
    snprintf(err, len, "no thread was idle in a system call (futex, poll, read, sleep...) "
             "within %u ms: a thread interrupted while computing could hold the allocator's "
             "lock, so none was", timeout_ms);
    return -1;
}

static int mem_io(rec_inject *in, uint64_t addr, void *buf, size_t len, int write_)
{
    struct iovec local = {buf, len}, remote = {(void *)addr, len};
    ssize_t n = write_ ? process_vm_writev(in->pid, &local, 1, &remote, 1, 0)
                       : process_vm_readv(in->pid, &local, 1, &remote, 1, 0);
    if (n == (ssize_t)len)
        return 0;
    /* the stack below the pointer may not be writable that way: /proc/PID/mem */
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/mem", (int)in->pid);
    int fd = open(path, write_ ? O_WRONLY : O_RDONLY);
    if (fd < 0)
        return -1;
    n = write_ ? pwrite(fd, buf, len, (off_t)addr) : pread(fd, buf, len, (off_t)addr);
    close(fd);
    return n == (ssize_t)len ? 0 : -1;
}

uint64_t rec_inject_put(rec_inject *in, const void *data, size_t len)
{
    uint64_t at = in->scratch + in->scratch_used;
    size_t need = (len + 15) & ~(size_t)15;
    if (in->scratch_used + need > SCRATCH_BYTES)
        return 0;
    if (mem_io(in, at, (void *)data, len, 1) != 0)
        return 0;
    in->scratch_used += need;
    return at;
}

int rec_inject_get_string(rec_inject *in, uint64_t addr, char *out, size_t len)
{
    out[0] = 0;
    if (!addr)
        return -1;
    for (size_t i = 0; i + 1 < len; i++) {
        if (mem_io(in, addr + i, out + i, 1, 0) != 0) {
            out[i] = 0;
            return -1;
        }
        if (!out[i])
            return 0;
    }
    out[len - 1] = 0;
    return 0;
}

int rec_inject_call(rec_inject *in, uint64_t fn, uint64_t a0, uint64_t a1, uint64_t *ret,
                    unsigned timeout_ms, char *err, size_t len)
{
    struct user_regs_struct r = in->regs;
    /* stack: 16-byte aligned before the call pushes its return address,
     * which is 0: the return faults there and gives control back */
    uint64_t sp = (in->scratch - 256) & ~(uint64_t)15;
    sp -= 8;
    uint64_t zero = 0;
    if (mem_io(in, sp, &zero, 8, 1) != 0) {
        snprintf(err, len, "cannot write the thread's stack: %s", strerror(errno));
        return -1;
    }
    r.rsp = sp;
    r.rip = fn;
    r.rdi = a0;
    r.rsi = a1;
    r.rax = 0;
    r.orig_rax = (unsigned long long)-1;   /* no system call restart at our rip */
    if (ptrace(PTRACE_SETREGS, in->tid, 0, &r) != 0 ||
        ptrace(PTRACE_CONT, in->tid, 0, 0) != 0) {
        snprintf(err, len, "ptrace: %s", strerror(errno));
        return -1;
    }
    uint64_t t0 = now_ms();
    for (;;) {
        int st;
        pid_t w = waitpid(in->tid, &st, __WALL | WNOHANG);
        if (w < 0 && errno != EINTR) {
            snprintf(err, len, "the process is gone");
            return -1;
        }
        if (w == 0) {
            if (now_ms() - t0 > timeout_ms) {
                snprintf(err, len, "the call did not return within %u ms (the process may "
                         "be stuck: a lock held by the interrupted thread)", timeout_ms);
                return -1;
            }
            sleep_ms(1);
            continue;
        }
        if (WIFEXITED(st) || WIFSIGNALED(st)) {
            snprintf(err, len, "the process died during the call");
            return -1;
        }
        if (!WIFSTOPPED(st))
            continue;
        int sig = WSTOPSIG(st);
        if ((st >> 16) == PTRACE_EVENT_STOP) {       /* a group stop */
            ptrace(PTRACE_CONT, in->tid, 0, 0);
            continue;
        }
        if (sig == SIGSEGV) {
            struct user_regs_struct after;
            if (ptrace(PTRACE_GETREGS, in->tid, 0, &after) != 0) {
                snprintf(err, len, "ptrace: %s", strerror(errno));
                return -1;
            }
            if (after.rip == 0) {                    /* returned to our 0 */
                *ret = after.rax;
                return 0;
            }
            snprintf(err, len, "the call faulted at %#llx", (unsigned long long)after.rip);
            return -1;
        }
        /* the program's own signal (a timer, SIGCHLD...): delivered */
        ptrace(PTRACE_CONT, in->tid, 0, (void *)(long)sig);
    }
}

void rec_inject_end(rec_inject *in)
{
    if (!in->seized)
        return;
    ptrace(PTRACE_SETREGS, in->tid, 0, &in->regs);
    ptrace(PTRACE_SETFPREGS, in->tid, 0, &in->fpregs);
    ptrace(PTRACE_DETACH, in->tid, 0, 0);
    in->seized = 0;
}

/* ---- symbols ----------------------------------------------------------------- */

/* value of the dynamic symbol name in the ELF file at path (its default
 * version when there are several), and the p_vaddr of the segment at
 * file offset 0.  0 or -1. */
static int elf_symbol(const char *path, const char *name, uint64_t *value, uint64_t *vaddr0)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || sb.st_size < (off_t)sizeof(Elf64_Ehdr)) {
        close(fd);
        return -1;
    }
    size_t size = (size_t)sb.st_size;
    const unsigned char *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED)
        return -1;
    int rc = -1;
    const Elf64_Ehdr *eh = (const void *)m;
    if (memcmp(eh->e_ident, ELFMAG, SELFMAG) || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
        eh->e_shoff + (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr) > size ||
        eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > size)
        goto out;
    const Elf64_Phdr *ph = (const void *)(m + eh->e_phoff);
    *vaddr0 = 0;
    for (unsigned i = 0; i < eh->e_phnum; i++)
        if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0) {
            *vaddr0 = ph[i].p_vaddr;
            break;
        }
    const Elf64_Shdr *sh = (const void *)(m + eh->e_shoff);
    const Elf64_Shdr *dynsym = NULL, *versym = NULL;
    for (unsigned i = 0; i < eh->e_shnum; i++) {
        if (sh[i].sh_type == SHT_DYNSYM)
            dynsym = &sh[i];
        else if (sh[i].sh_type == SHT_GNU_versym)
            versym = &sh[i];
    }
    if (!dynsym || dynsym->sh_link >= eh->e_shnum)
        goto out;
    const Elf64_Shdr *strs = &sh[dynsym->sh_link];
    if (dynsym->sh_offset + dynsym->sh_size > size || strs->sh_offset + strs->sh_size > size)
        goto out;
    const Elf64_Sym *sym = (const void *)(m + dynsym->sh_offset);
    size_t nsym = dynsym->sh_size / sizeof *sym;
    const uint16_t *ver = versym && versym->sh_offset + nsym * 2 <= size
                          ? (const void *)(m + versym->sh_offset) : NULL;
    const char *str = (const char *)(m + strs->sh_offset);
    int found = 0;
    for (size_t i = 0; i < nsym; i++) {
        if (sym[i].st_name >= strs->sh_size || sym[i].st_shndx == SHN_UNDEF ||
            ELF64_ST_TYPE(sym[i].st_info) != STT_FUNC || strcmp(str + sym[i].st_name, name))
            continue;
        int hidden = ver && (ver[i] & 0x8000);
        if (!found || !hidden) {
            *value = sym[i].st_value;
            found = 1 + !hidden;
        }
        if (found == 2)
            break;
    }
    rc = found ? 0 : -1;
out:
    munmap((void *)m, size);
    return rc;
}

uint64_t rec_inject_symbol(pid_t pid, const char *path, int exact, const char *name)
{
    char maps[64];
    snprintf(maps, sizeof maps, "/proc/%d/maps", (int)pid);
    FILE *f = fopen(maps, "re");
    if (!f)
        return 0;
    char line[4600];
    uint64_t addr = 0;
    while (!addr && fgets(line, sizeof line, f)) {
        unsigned long long lo, hi, off;
        int pos = 0;
        if (sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &lo, &hi, &off, &pos) < 3 || !pos)
            continue;
        char *file = line + pos;
        file[strcspn(file, "\n")] = 0;
        if (off != 0 || file[0] != '/')
            continue;
        const char *base = strrchr(file, '/') + 1;
        if (exact ? strcmp(file, path) : strncmp(base, path, strlen(path)))
            continue;
        /* the file as the process sees it (its mount namespace) */
        char inproc[4700];
        snprintf(inproc, sizeof inproc, "/proc/%d/root%s", (int)pid, file);
        uint64_t value, vaddr0;
        if (elf_symbol(inproc, name, &value, &vaddr0) == 0 ||
            elf_symbol(file, name, &value, &vaddr0) == 0)
            addr = lo - (vaddr0 & ~(uint64_t)4095) + value;
    }
    fclose(f);
    return addr;
}
