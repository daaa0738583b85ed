/*
 * emulator.c -- the athread API (SW26010) and the CRTS API (SW26010-Pro) on an ordinary Linux host.
 *
 * Why: swmlir emits C for the Sunway many-core processor and nobody here has one. Every compiled model is run
 * against this emulator to check its numbers, and the counters kept here (DMA requests, bytes, block sizes,
 * LDM use, barriers) feed the performance model, so they are exact.
 *
 * Model of the machine:
 *  - the 64 CPEs are a persistent pool of 64 threads; athread_spawn runs fn(arg) on each, athread_join waits;
 *  - a CPE's LDM is its thread stack (kernel-local arrays live there, as on the real CPE, where the slave stack
 *    is in LDM) plus its ldm_malloc heap plus its __thread_local data. The "top" of the LDM is the frame address
 *    just above the kernel's frame; a DMA into a local array at p means top - p bytes of stack are in use;
 *  - a DMA is a synchronous copy, checked (LDM side in this CPE's LDM and, when it starts in one of the kernel's
 *    registered LDM arrays, inside that array; main-memory side inside one registered buffer and not in any LDM,
 *    and inside the registered tensor it starts in (weights, arena slots, inputs, outputs); the reply word 4-byte
 *    aligned; addresses and sizes at the granularity of the element moved; LDM use <= SWMLIR_LDM_BYTES) and
 *    counted;
 *  - a kernel's LDM arrays (swmlir_ldm_array, emitted after each local array) count in its LDM use as soon as they
 *    are declared, whether or not a DMA touches them;
 *  - main memory shared with the kernels (swmlir_alloc's buffers, the spawn argument) is closed to CPE code from
 *    athread_spawn to athread_join: DMA goes through a second mapping of it, a direct load or store (gld/gst on the
 *    machine) is an error naming the kernel, the CPE, the address and its buffer. The argument struct is read by
 *    DMA too. An opt-in build counts direct accesses instead (see "Main memory shared with the kernels");
 *  - any error prints one line "swmlir-emulator: error: ..." and ends the process with status 3 (never a hang:
 *    barriers that can no longer complete and waits for replies that will never come are errors too).
 * Counters are accumulated per CPE without sharing and merged at athread_join.
 *
 * CRTS (emulator/crts.h) runs on the same machinery: CRTS_init is athread_init, the host spawns with athread_spawn,
 * CRTS_dma_* are the same checked and counted copies as athread_get/put (a request is counted alike in both
 * APIs), CRTS_ssync_* the same barriers. RMA broadcasts (CRTS_rma_row/col_ibcast) copy between the CPEs' LDMs and
 * increment the receivers' reply words; CRTS_rma_wait_value really waits for them (deadlocks are errors).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#define SWMLIR_EMU_IMPL 1 /* the headers' call-site macros (athread_get -> swmlir_emu_athread_get_t, ...) stay off */

/* the emulator's stand-ins for the vendor headers, apart from the portable include/ (never on the Sunway
 * build's include path) */
#include "emulator/athread.h"
#include "emulator/slave.h"
#define SWMLIR_EMU_CRTS_IMPL 1 /* both parts of crts.h: the host's CRTS_init and the slave's CRTS_* */
#include "emulator/crts.h"

#ifndef SWMLIR_LDM_BYTES
#define SWMLIR_LDM_BYTES 65536
#endif

#define NCPE 64
#define HOST_STACK_EXTRA (1u << 20) /* CPE stack room for what is not LDM: emulator, libc and signal frames */
#define LDM_HEAP_ALIGN 64           /* ldm_malloc alignment (enough for 512-bit SIMD) */
#define ALTSTACK_BYTES (64u << 10)  /* signal stack, so that a stack overflow can still be reported */
#define EXIT_EMULATOR_ERROR 3

/* ------------------------------------------------------------------------------------------------------------
 * Counters
 * ---------------------------------------------------------------------------------------------------------- */

/* Histogram of DMA block sizes: open addressing, key 0 = empty slot (block sizes are > 0). */
typedef struct {
    uint64_t *keys, *counts;
    size_t cap, n;
} hist_t;

typedef struct {
    uint64_t get_requests, put_requests, get_bytes, put_bytes, syncs, ldm_peak;
    uint64_t mesh_bytes; /* bytes received from other CPEs' LDM by register communication (mesh allgathers) */
    /* direct loads / stores of main memory by CPE code (gld / gst), counted only in the opt-in mode
     * (SWMLIR_EMU_DIRECT_ACCESS=count at build time); requests are accesses of up to 8 bytes */
    uint64_t gld_requests, gld_bytes, gst_requests, gst_bytes;
    hist_t blocks;      /* block sizes of all requests */
    hist_t put_blocks;  /* of the puts alone (the performance model keeps the puts' time apart) */
} counters_t;

typedef struct launch {
    char *kernel;
    long launch;
    counters_t c;
    uint64_t max_cpe_dma_bytes;       /* DMA bytes of the busiest CPE: the performance model's imbalance */
    uint64_t max_cpe_direct_requests; /* gld + gst requests of the busiest CPE (opt-in mode) */
    int active_cpes;                  /* CPEs that moved any byte by DMA */
    int ncgs;                         /* a launch on several core groups (athread_spawn_cgs): its records per CG */
    struct launch *per_cg;            /* (kernel NULL in them), NULL otherwise */
} launch_t;

static void *xcalloc(size_t n, size_t size);

static void hist_add(hist_t *h, uint64_t key, uint64_t count)
{
    size_t i;

    if (2 * (h->n + 1) > h->cap) { /* keep the load under 1/2 */
        hist_t g = {0, 0, h->cap ? 2 * h->cap : 16, 0};
        g.keys = (uint64_t *)xcalloc(g.cap, sizeof *g.keys);
        g.counts = (uint64_t *)xcalloc(g.cap, sizeof *g.counts);
        for (i = 0; i < h->cap; i++)
            if (h->keys[i])
                hist_add(&g, h->keys[i], h->counts[i]);
        free(h->keys);
        free(h->counts);
        *h = g;
    }
    for (i = (size_t)(key * 0x9E3779B97F4A7C15ull) & (h->cap - 1); h->keys[i] && h->keys[i] != key;
         i = (i + 1) & (h->cap - 1))
        ;
    if (!h->keys[i]) {
        h->keys[i] = key;
        h->n++;
    }
    h->counts[i] += count;
}

static void hist_clear(hist_t *h)
{
    if (h->cap) {
        memset(h->keys, 0, h->cap * sizeof *h->keys);
        memset(h->counts, 0, h->cap * sizeof *h->counts);
    }
    h->n = 0;
}

static void hist_free(hist_t *h)
{
    free(h->keys);
    free(h->counts);
    memset(h, 0, sizeof *h);
}

static void counters_merge(counters_t *dst, const counters_t *src)
{
    size_t i;

    dst->get_requests += src->get_requests;
    dst->put_requests += src->put_requests;
    dst->get_bytes += src->get_bytes;
    dst->put_bytes += src->put_bytes;
    dst->syncs += src->syncs;
    dst->mesh_bytes += src->mesh_bytes;
    dst->gld_requests += src->gld_requests;
    dst->gld_bytes += src->gld_bytes;
    dst->gst_requests += src->gst_requests;
    dst->gst_bytes += src->gst_bytes;
    if (src->ldm_peak > dst->ldm_peak)
        dst->ldm_peak = src->ldm_peak;
    for (i = 0; i < src->blocks.cap; i++)
        if (src->blocks.keys[i])
            hist_add(&dst->blocks, src->blocks.keys[i], src->blocks.counts[i]);
    for (i = 0; i < src->put_blocks.cap; i++)
        if (src->put_blocks.keys[i])
            hist_add(&dst->put_blocks, src->put_blocks.keys[i], src->put_blocks.counts[i]);
}

static void counters_clear(counters_t *c)
{
    hist_t h = c->blocks, p = c->put_blocks;

    hist_clear(&h);
    hist_clear(&p);
    memset(c, 0, sizeof *c);
    c->blocks = h;
    c->put_blocks = p;
}

/* ------------------------------------------------------------------------------------------------------------
 * State
 * ---------------------------------------------------------------------------------------------------------- */

typedef struct {
    size_t off, size, asked; /* offset in the heap, rounded size, size asked for */
} ldm_block_t;

/* A local array of the kernel (swmlir_ldm_array): its place on the CPE stack, its C name, its shadow tag. */
typedef struct {
    char *lo;
    size_t bytes;
    const char *name; /* a string literal of the kernel's code */
    unsigned short tag;
} ldm_array_t;

typedef struct {
    pthread_cond_t cv;
    int expected, arrived, finished; /* CPEs in the barrier's group, waiting now, returned from the kernel */
    unsigned long phase;
} barrier_t;

typedef struct {
    int id;
    pthread_t thread;
    char *stack_lo, *stack_hi; /* this thread's stack (guard page excluded) */
    char *top;                 /* LDM top: frame address just above the kernel's frame */
    char *stack_low;           /* lowest stack address used as LDM (DMA buffer, reply word) in this launch */
    char *heap;                /* ldm_malloc heap, ldm_bytes long */
    ldm_block_t *blocks;       /* live heap blocks, sorted by offset */
    size_t nblocks, capblocks, heap_high;
    char *tls_lo;              /* this thread's __thread_local block */
    ldm_array_t *arrays;       /* the kernel's registered LDM arrays, sorted by address, disjoint (this launch) */
    size_t narrays, caparrays;
    unsigned short next_tag;   /* the shadow tag the next new array gets (never 0) */
    int in_kernel;
    char *mesh_buf;            /* the buffer this CPE shares in the mesh allgather it is in */
    volatile int *rma_wait_on; /* CRTS_rma_wait_value: the reply word and the count this CPE waits for, and */
    int rma_wait_for;          /* whether it still waits (cleared under syn_mu by the RMA that satisfies it, so */
    int rma_blocked;           /* that the deadlock checks never count a CPE that is about to wake up) */
    sem_t go;                  /* posted by athread_spawn (or athread_halt, to stop) */
    counters_t c;
    char *altstack;
} __attribute__((aligned(64))) cpe_t; /* one cache line apart: no false sharing of the counters */

static struct {
    pthread_mutex_t mu;
    int initialized, stop, active;
    sem_t done;                /* posted by the last CPE to return from the kernel */
    sem_t ready;               /* posted by each CPE thread once its tls_lo is set (athread_init waits for all:
                                * other CPEs read every tls_lo in ldm_owner) */
    void (*fn)(void *);
    void *arg;
    char *name;                /* kernel of the current / last launch */
    long launch;
    int nthreads, next_nthreads, remaining;
    size_t ldm_bytes, stack_bytes, guard_bytes, tls_bytes;
    char *stacks, *heaps;      /* one mapping each for the 64 CPEs */
    size_t stacks_len, heaps_len;
    pthread_key_t self_key;
    int key_made;
    int segv_ours;             /* our handler owns SIGSEGV: the direct-access guard can work */
    int env_count;             /* SWMLIR_EMU_DIRECT_ACCESS=count in the environment (for the guard's message) */
    /* The spawn argument: a struct the host passed by address, copied into main memory shared with the kernels
     * (so the guard covers it and DMA can read it), registered for the spawn, copied back at join if changed. */
    char *arg_copy, *host_arg;
    size_t arg_cap, arg_bytes;
    int arg_registered;
    /* barriers, all under syn_mu; blocked / finished count CPEs over the whole spawn (deadlock detection) */
    pthread_mutex_t syn_mu;
    barrier_t array, rows[8], cols[8];
    int blocked, finished;
    /* CPEs waiting in CRTS_rma_wait_value (under syn_mu; woken by rma_cv when an RMA write arrives) */
    pthread_cond_t rma_cv;
    int rma_waiting;
    /* core groups: the CG the current kernel runs on (CRTS_cgn, swmlir_cg_id), and how many athread_spawn_cgs
     * starts (athread_init_cgs); a multi-CG launch runs each CG in turn on the same 64 threads */
    int cg, ncgs;
    cpe_t cpes[NCPE];
} E = {
    .mu = PTHREAD_MUTEX_INITIALIZER,
    .syn_mu = PTHREAD_MUTEX_INITIALIZER,
    .rma_cv = PTHREAD_COND_INITIALIZER,
    .next_nthreads = NCPE,
};

/* Launch records: touched by the host thread only (join, reset, write), under S.mu. */
static struct {
    pthread_mutex_t mu;
    launch_t *v;
    size_t n, cap;
    counters_t totals;
    long next_launch;
    int dirty; /* something counted since the last write of SWMLIR_EMU_STATS */
} S = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* Registered main memory: sorted by start. Written by the host, read by every DMA. */
typedef struct {
    uintptr_t lo, hi;
    char label[64]; /* what the buffer is ("weights", "input 0", ...), for messages; "" if unknown */
} range_t;

static struct {
    pthread_rwlock_t lock;
    range_t *v;
    size_t n, cap;
    size_t foreign; /* ranges outside the main-memory object (swmlir_register_buffer): not guarded */
} R = {.lock = PTHREAD_RWLOCK_INITIALIZER};

/* Registered tensors (swmlir_register_tensor: the weights, arena slots, inputs and outputs the host hands to kernels),
 * inside registered buffers. Sorted by start and disjoint: a registration replaces the tensors it overlaps. Under
 * R.lock. */
typedef struct {
    uintptr_t lo, hi;
    char name[96];
} tensor_t;

static struct {
    tensor_t *v;
    size_t n, cap;
} T;

/* The SIMD helpers' inline check (slave.h's swmlir_emu_ldm_check): one tag per 4 bytes of the CPE stacks, the tag of
 * the registered LDM array there or 0. Each CPE writes the part of its own stack. */
#define SHADOW_GRANULE 4
swmlir_emu_ldm_shadow_t swmlir_emu_ldm_shadow;
static unsigned short *shadow_tags;
static size_t shadow_bytes;

static const char *const mode_names[] = {"PE_MODE", "BCAST_MODE", "ROW_MODE", "BROW_MODE", "RANK_MODE"};

/* ------------------------------------------------------------------------------------------------------------
 * Errors: one line on stderr, then _exit(3): atexit handlers must not run while CPE threads are still live.
 * The first error wins; the others wait in claim_failure until the process is gone.
 * ---------------------------------------------------------------------------------------------------------- */

static int failing; /* set by the first error or fatal signal */

/* Only the first error is reported; later ones (other CPEs) wait here for the process to end. */
static void claim_failure(void)
{
    if (__atomic_exchange_n(&failing, 1, __ATOMIC_SEQ_CST))
        for (;;)
            pause();
}

static void emu_fail(const cpe_t *c, const char *call, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));

static void emu_fail(const cpe_t *c, const char *call, const char *fmt, ...)
{
    char line[1024];
    int n;
    va_list ap;

    claim_failure();
    if (c)
        n = snprintf(line, sizeof line, "swmlir-emulator: error: kernel '%s' (launch %ld), CPE %d, %s: ",
                     E.name ? E.name : "?", E.launch, c->id, call);
    else
        n = snprintf(line, sizeof line, "swmlir-emulator: error: %s: ", call);
    if (n < 0 || (size_t)n >= sizeof line)
        n = 0;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fflush(stdout);
    fprintf(stderr, "%s\n", line);
    fflush(stderr);
    _exit(EXIT_EMULATOR_ERROR);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        emu_fail(NULL, "emulator", "out of host memory (%zu x %zu bytes)", n, size);
    return p;
}

static cpe_t *self_cpe(void)
{
    return E.key_made ? (cpe_t *)pthread_getspecific(E.self_key) : NULL;
}

static cpe_t *require_cpe(const char *call)
{
    cpe_t *c = self_cpe();
    if (!c || !c->in_kernel)
        emu_fail(NULL, call, "called outside a kernel (only CPE code spawned by athread_spawn may call it)");
    return c;
}

/* ------------------------------------------------------------------------------------------------------------
 * Crash reports: a kernel that faults (typically a local array larger than the CPE stack) says which kernel
 * and which CPE, instead of a bare "Segmentation fault".
 * ---------------------------------------------------------------------------------------------------------- */

static char main_altstack[ALTSTACK_BYTES];

static int guard_fault(const cpe_t *c, const char *addr, void *uc);

static void on_fatal_signal(int sig, siginfo_t *si, void *uc)
{
    char buf[512];
    const cpe_t *c = self_cpe();
    const char *what = sig == SIGSEGV   ? "segmentation fault"
                       : sig == SIGBUS  ? "bus error"
                       : sig == SIGFPE  ? "arithmetic exception (integer division by zero?)"
                                        : "illegal instruction";
    const char *addr = (const char *)si->si_addr;
    int n;

    if (sig == SIGSEGV && guard_fault(c, addr, uc)) /* main memory touched while a kernel runs */
        return;
    claim_failure(); /* async-signal-safe: an atomic exchange and pause() */
    if (c && c->in_kernel && addr < c->stack_lo && addr >= c->stack_lo - E.guard_bytes)
        n = snprintf(buf, sizeof buf,
                     "swmlir-emulator: error: kernel '%s' (launch %ld), CPE %d: stack overflow: the kernel's "
                     "frames exceed the emulated CPE stack of %zu bytes (LDM is %zu bytes)\n",
                     E.name ? E.name : "?", E.launch, c->id, E.stack_bytes, E.ldm_bytes);
    else if (c && c->in_kernel)
        n = snprintf(buf, sizeof buf, "swmlir-emulator: error: kernel '%s' (launch %ld), CPE %d: %s at address %p\n",
                     E.name ? E.name : "?", E.launch, c->id, what, (void *)addr);
    else
        n = snprintf(buf, sizeof buf, "swmlir-emulator: error: %s on the host (MPE) at address %p\n", what,
                     (void *)addr);
    if (n > 0 && write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0)
        n = 0;
    _exit(EXIT_EMULATOR_ERROR);
}

static const char *sanitizer_present(void);

/* Not under a sanitizer runtime: it gives each thread a signal stack of its own and unmaps it at thread exit
 * (one of ours there makes AddressSanitizer abort every CPE thread at athread_halt). */
static void set_altstack(char *mem)
{
    stack_t ss;
    if (sanitizer_present())
        return;
    memset(&ss, 0, sizeof ss);
    ss.ss_sp = mem;
    ss.ss_size = ALTSTACK_BYTES;
    sigaltstack(&ss, NULL);
}

static void install_signal_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
    size_t i;

    set_altstack(main_altstack);
    for (i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old, sa;
        if (sigaction(sigs[i], NULL, &old) != 0)
            continue;
        if ((old.sa_flags & SA_SIGINFO) && old.sa_sigaction == on_fatal_signal) { /* a second athread_init */
            E.segv_ours |= sigs[i] == SIGSEGV;
            continue;
        }
        /* Leave handlers someone else installed (sanitizers, debuggers' helpers) alone. */
        if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
            continue;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal_signal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], &sa, NULL) == 0 && sigs[i] == SIGSEGV)
            E.segv_ours = 1;
    }
}

/* ------------------------------------------------------------------------------------------------------------
 * __thread_local data: the PT_TLS segment of the module that holds the emulator (the executable, or the
 * shared object the kernels are linked into). dlpi_tls_data is the calling thread's copy of it.
 * ---------------------------------------------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t bytes;
} tls_info_t;

static int find_tls(struct dl_phdr_info *info, size_t size, void *out)
{
    const uintptr_t me = (uintptr_t)&swmlir_emu_spawn;
    const ElfW(Phdr) *tls = NULL;
    int mine = 0, i;

    (void)size;
    for (i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
        if (ph->p_type == PT_LOAD && me >= lo && me < lo + ph->p_memsz)
            mine = 1;
        if (ph->p_type == PT_TLS)
            tls = ph;
    }
    if (!mine)
        return 0;
    if (tls && info->dlpi_tls_data) {
        ((tls_info_t *)out)->data = (char *)info->dlpi_tls_data;
        ((tls_info_t *)out)->bytes = tls->p_memsz;
    }
    return 1;
}

static tls_info_t thread_tls(void)
{
    tls_info_t t = {NULL, 0};
    dl_iterate_phdr(find_tls, &t);
    return t;
}

/* ------------------------------------------------------------------------------------------------------------
 * Registered main memory
 * ---------------------------------------------------------------------------------------------------------- */

static int in_object(uintptr_t a);

static void register_range(const void *p, size_t bytes, const char *label)
{
    size_t i;

    if (!p)
        return;
    pthread_rwlock_wrlock(&R.lock);
    if (R.n == R.cap) {
        range_t *v = (range_t *)realloc(R.v, (R.cap ? 2 * R.cap : 64) * sizeof *v);
        if (!v)
            emu_fail(NULL, "swmlir_register_buffer", "out of host memory");
        R.v = v;
        R.cap = R.cap ? 2 * R.cap : 64;
    }
    for (i = R.n; i > 0 && R.v[i - 1].lo > (uintptr_t)p; i--)
        R.v[i] = R.v[i - 1];
    R.v[i].lo = (uintptr_t)p;
    R.v[i].hi = (uintptr_t)p + bytes;
    snprintf(R.v[i].label, sizeof R.v[i].label, "%s", label ? label : "");
    R.n++;
    if (!in_object((uintptr_t)p))
        R.foreign++;
    pthread_rwlock_unlock(&R.lock);
}

void swmlir_emu_register_range(const void *p, size_t bytes)
{
    register_range(p, bytes, NULL);
}

/* Drop the tensors that start in [lo, hi) (under the write lock). */
static void drop_tensors(uintptr_t lo, uintptr_t hi)
{
    size_t i, k = 0;
    for (i = 0; i < T.n; i++)
        if (T.v[i].lo < lo || T.v[i].lo >= hi)
            T.v[k++] = T.v[i];
    T.n = k;
}

void swmlir_emu_register_tensor(const void *p, size_t bytes, const char *name)
{
    uintptr_t lo = (uintptr_t)p, hi = lo + bytes;
    size_t i, k = 0;

    if (!p || !bytes)
        return;
    pthread_rwlock_wrlock(&R.lock);
    for (i = 0; i < T.n; i++) /* the tensors it overlaps are dead: the memory plan gave their bytes to this one */
        if (T.v[i].hi <= lo || T.v[i].lo >= hi)
            T.v[k++] = T.v[i];
    T.n = k;
    if (T.n == T.cap) {
        size_t cap = T.cap ? 2 * T.cap : 64;
        tensor_t *v = (tensor_t *)realloc(T.v, cap * sizeof *v);
        if (!v)
            emu_fail(NULL, "swmlir_register_tensor", "out of host memory");
        T.v = v;
        T.cap = cap;
    }
    for (i = T.n; i > 0 && T.v[i - 1].lo > lo; i--)
        T.v[i] = T.v[i - 1];
    T.v[i].lo = lo;
    T.v[i].hi = hi;
    snprintf(T.v[i].name, sizeof T.v[i].name, "%s", name && *name ? name : "a tensor");
    T.n++;
    pthread_rwlock_unlock(&R.lock);
}

void swmlir_emu_unregister_range(const void *p)
{
    size_t i;

    pthread_rwlock_wrlock(&R.lock);
    for (i = R.n; i > 0; i--)
        if (R.v[i - 1].lo == (uintptr_t)p) {
            drop_tensors(R.v[i - 1].lo, R.v[i - 1].hi > R.v[i - 1].lo ? R.v[i - 1].hi : R.v[i - 1].lo + 1);
            memmove(&R.v[i - 1], &R.v[i], (R.n - i) * sizeof *R.v);
            R.n--;
            if (!in_object((uintptr_t)p))
                R.foreign--;
            break;
        }
    pthread_rwlock_unlock(&R.lock);
}

void swmlir_emu_name_range(const void *p, const char *name)
{
    size_t i;

    pthread_rwlock_wrlock(&R.lock);
    for (i = R.n; i > 0; i--)
        if (R.v[i - 1].lo == (uintptr_t)p) {
            snprintf(R.v[i - 1].label, sizeof R.v[i - 1].label, "%s", name ? name : "");
            break;
        }
    pthread_rwlock_unlock(&R.lock);
}

/* Index of the last of n entries sorted by their leading `uintptr_t lo` (range_t, tensor_t: `elem` bytes each)
 * that starts at or before a, or -1. */
static long floor_index(const void *v, size_t n, size_t elem, uintptr_t a)
{
    long lo = 0, hi = (long)n - 1, best = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (*(const uintptr_t *)((const char *)v + (size_t)mid * elem) <= a) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

/* Index of the last range starting at or before a, or -1. */
static long range_floor(uintptr_t a)
{
    return floor_index(R.v, R.n, sizeof *R.v, a);
}

/* 1 if [a, b) lies in one registered range, or if nothing is registered (no check then). On failure, *near is
 * the range containing a, if any (for the message). */
static int range_check(uintptr_t a, uintptr_t b, range_t *near, int *any)
{
    long i;
    int ok = 0;

    pthread_rwlock_rdlock(&R.lock);
    *any = R.n > 0;
    near->lo = near->hi = 0;
    if (!*any)
        ok = 1;
    for (i = range_floor(a); i >= 0 && !ok; i--) { /* ranges may nest (a registered view of a buffer) */
        if (b <= R.v[i].hi)
            ok = 1;
        else if (a < R.v[i].hi && !near->lo)
            *near = R.v[i];
    }
    pthread_rwlock_unlock(&R.lock);
    return ok;
}

static int in_registered(uintptr_t a)
{
    range_t near;
    int any;
    return range_check(a, a + 1, &near, &any) && any;
}

/* ------------------------------------------------------------------------------------------------------------
 * Main memory shared with the kernels: the guard against direct accesses from CPE code.
 *
 * On the machine a CPE reaches main memory by DMA, or by gld/gst: a direct load/store that costs hundreds of
 * cycles and that no DMA counter sees. So that emitted code never does the latter unnoticed, every buffer the
 * host shares with kernels (swmlir_alloc: weights, arena, inputs, outputs; and the copies of spawn arguments)
 * lives in one shared-memory object (memfd) mapped twice:
 *  - the program's view, the addresses swmlir_alloc returns: PROT_NONE from athread_spawn to athread_join, so a
 *    CPE that dereferences one faults, and the SIGSEGV handler reports kernel, CPE, address and buffer;
 *  - the DMA engine's view, always read-write, through which athread_get / athread_put copy.
 * The host (MPE) runs on while the CPEs do; should it touch the guarded memory before athread_join (the emitted
 * host code never does: spawn is followed by join), its fault makes it wait until the kernel has finished, then
 * the memory is given back and its access goes through, as if the host had run after the kernel.
 * Off (memory from calloc, nothing guarded) under a sanitizer runtime (AddressSanitizer & co. own SIGSEGV and
 * the allocator) or when the object cannot be made; the counters file says which ("direct_access").
 * The opt-in mode (kernels built with SWMLIR_EMU_DIRECT_ACCESS=count, see build.py and direct_count.c) leaves the
 * memory open and counts the kernels' direct accesses instead.
 * ---------------------------------------------------------------------------------------------------------- */

#define MM_RESERVE_DEFAULT (64ull << 30) /* address space of each view (sparse: only what is used costs) */
#define MM_RESERVE_MIN (256ull << 20)

typedef struct {
    size_t off, len; /* extent in the object, whole pages */
} mm_block_t;

extern void __asan_init(void) __attribute__((weak));
extern void __tsan_init(void) __attribute__((weak));
extern void __msan_init(void) __attribute__((weak));
extern void __hwasan_init(void) __attribute__((weak));

static struct {
    pthread_once_t once;
    pthread_mutex_t mu;
    int ok;                  /* the object exists: swmlir_alloc memory comes from it */
    char *prog, *dma;        /* the program's view (guarded during spawns), the DMA engine's view */
    size_t reserve, page;    /* bytes of each view */
    size_t high;             /* end of the highest live block */
    mm_block_t *v;           /* live blocks, sorted by offset */
    size_t n, cap;
    int fd, zero_by_hand;    /* fallocate cannot punch holes: freed blocks are zeroed through the DMA view */
    const char *off_reason;  /* why nothing is guarded, or NULL */
    int counting;            /* kernels built in the opt-in mode: direct accesses allowed and counted */
    int engaged;             /* the program view is PROT_NONE over [prog, prog + engaged_len) */
    size_t engaged_len;
    int waiter, kernel_over; /* wait_kernel_end: one thread waits for E.done, the others for it */
} M = {.once = PTHREAD_ONCE_INIT, .mu = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static int in_object(uintptr_t a)
{
    return M.ok && a - (uintptr_t)M.prog < M.reserve;
}

/* The address the DMA engine uses for a main-memory address of the program. */
static char *dma_view(char *mem)
{
    return in_object((uintptr_t)mem) ? M.dma + (mem - M.prog) : mem;
}

static const char *sanitizer_present(void)
{
    if (__asan_init || __hwasan_init)
        return "an address sanitizer runtime is present";
    if (__tsan_init)
        return "a thread sanitizer runtime is present";
    if (__msan_init)
        return "a memory sanitizer runtime is present";
    return NULL;
}

/* A byte count from the environment variable `name` (decimal, or 0x hex), `dflt` when unset; anything else than a
 * number in [lo, hi] stops the program with an error naming the variable (`where`: the API call that read it). */
static size_t env_bytes(const char *name, size_t dflt, unsigned long long lo, unsigned long long hi,
                        const char *where)
{
    const char *s = getenv(name);
    char *end;
    unsigned long long v;

    if (!s || !*s)
        return dflt;
    errno = 0;
    v = strtoull(s, &end, 0);
    if (errno || *end || v < lo || v > hi)
        emu_fail(NULL, where, "%s='%s' is not a byte count in [%llu, %llu]", name, s, lo, hi);
    return (size_t)v;
}

static size_t env_reserve(void)
{
    return env_bytes("SWMLIR_EMU_MAIN_MEMORY_BYTES", (size_t)MM_RESERVE_DEFAULT, (unsigned long long)MM_RESERVE_MIN,
                     ~0ull, "swmlir_alloc");
}

static void mm_init(void)
{
    size_t want;

    M.page = (size_t)sysconf(_SC_PAGESIZE);
    if ((M.off_reason = sanitizer_present()) != NULL)
        return;
#ifdef MFD_CLOEXEC
    M.fd = memfd_create("swmlir-main-memory", MFD_CLOEXEC);
#endif
    if (M.fd < 0) {
        M.off_reason = "memfd_create failed";
        return;
    }
    for (want = env_reserve() / M.page * M.page; want >= MM_RESERVE_MIN; want /= 2) {
        if (ftruncate(M.fd, (off_t)want) != 0)
            continue;
        M.prog = (char *)mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, M.fd, 0);
        M.dma = (char *)mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, M.fd, 0);
        if (M.prog != MAP_FAILED && M.dma != MAP_FAILED) {
            M.reserve = want;
            M.ok = 1;
            return;
        }
        if (M.prog != MAP_FAILED)
            munmap(M.prog, want);
        if (M.dma != MAP_FAILED)
            munmap(M.dma, want);
        M.prog = M.dma = NULL;
    }
    close(M.fd);
    M.fd = -1;
    M.off_reason = "the shared-memory object cannot be mapped";
}

/* swmlir_alloc under the emulator. *handled = 0: the object is off, the caller allocates (unguarded). */
void *swmlir_emu_alloc(size_t bytes, int *handled)
{
    size_t len, off = 0, i;

    pthread_once(&M.once, mm_init);
    *handled = M.ok;
    if (!M.ok)
        return NULL;
    if (bytes > M.reserve)
        return NULL;
    len = ((bytes ? bytes : 1) + M.page - 1) / M.page * M.page;
    pthread_mutex_lock(&M.mu);
    for (i = 0; i < M.n && M.v[i].off < off + len; i++) /* first fit */
        off = M.v[i].off + M.v[i].len;
    if (off + len > M.reserve) {
        pthread_mutex_unlock(&M.mu);
        return NULL; /* out of (emulated) main memory */
    }
    if (M.n == M.cap) {
        size_t cap = M.cap ? 2 * M.cap : 64;
        mm_block_t *v = (mm_block_t *)realloc(M.v, cap * sizeof *v);
        if (!v)
            emu_fail(NULL, "swmlir_alloc", "out of host memory");
        M.v = v;
        M.cap = cap;
    }
    memmove(&M.v[i + 1], &M.v[i], (M.n - i) * sizeof *M.v);
    M.v[i].off = off;
    M.v[i].len = len;
    M.n++;
    if (off + len > M.high)
        M.high = off + len;
    if (M.engaged && off + len > M.engaged_len) { /* allocated while a kernel runs: guarded at once */
        mprotect(M.prog + M.engaged_len, off + len - M.engaged_len, PROT_NONE);
        M.engaged_len = off + len;
    }
    pthread_mutex_unlock(&M.mu);
    register_range(M.prog + off, bytes, NULL); /* zero-filled: fresh or punched pages */
    return M.prog + off;
}

/* swmlir_free under the emulator: 1 if p came from swmlir_emu_alloc (and is now free), 0 if not ours. */
int swmlir_emu_free(void *p)
{
    size_t i;

    if (!in_object((uintptr_t)p))
        return 0;
    swmlir_emu_unregister_range(p);
    pthread_mutex_lock(&M.mu);
    for (i = 0; i < M.n && M.prog + M.v[i].off != (char *)p; i++)
        ;
    if (i == M.n)
        emu_fail(NULL, "swmlir_free", "%p is not a live buffer from swmlir_alloc", p);
    if (M.zero_by_hand ||
        fallocate(M.fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)M.v[i].off, (off_t)M.v[i].len) != 0) {
        M.zero_by_hand = 1;
        memset(M.dma + M.v[i].off, 0, M.v[i].len);
    }
    memmove(&M.v[i], &M.v[i + 1], (M.n - i - 1) * sizeof *M.v);
    M.n--;
    M.high = M.n ? M.v[M.n - 1].off + M.v[M.n - 1].len : 0;
    pthread_mutex_unlock(&M.mu);
    return 1;
}

/* Set by direct_count.c's constructor: the kernels are instrumented, direct accesses are counted, not refused. */
void swmlir_emu_count_direct_accesses(void)
{
    M.counting = 1;
}

/* The guard works: the object exists, the kernels are not counting, and SIGSEGV is ours. */
static int guard_possible(void)
{
    return M.ok && !M.counting && E.segv_ours;
}

/* Why the guard is off (for the counters file), or NULL. */
static const char *guard_off_reason(void)
{
    if (M.counting || guard_possible())
        return NULL;
    if (M.off_reason)
        return M.off_reason;
    if (!M.ok)
        return "no buffer was allocated";
    return "SIGSEGV has another handler (a debugger's or a sanitizer's)";
}

/* athread_spawn: close the program's view (the spawner holds E.mu). */
static void guard_engage(void)
{
    pthread_once(&M.once, mm_init);
    if (!guard_possible())
        return;
    pthread_mutex_lock(&M.mu);
    if (M.high && mprotect(M.prog, M.high, PROT_NONE) != 0)
        emu_fail(NULL, "athread_spawn", "cannot protect main memory (mprotect: %s)", strerror(errno));
    M.engaged_len = M.high;
    __atomic_store_n(&M.engaged, 1, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&M.mu);
}

/* The kernel is over: open the program's view again. */
static void guard_release(void)
{
    pthread_mutex_lock(&M.mu);
    if (M.engaged) {
        if (M.engaged_len && mprotect(M.prog, M.engaged_len, PROT_READ | PROT_WRITE) != 0)
            emu_fail(NULL, "athread_join", "cannot unprotect main memory (mprotect: %s)", strerror(errno));
        __atomic_store_n(&M.engaged, 0, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&M.mu);
}

/* Block until the CPEs have all returned from the current kernel and main memory is open again. athread_join
 * calls it; so does the fault handler of a host thread that touched guarded memory during the spawn. */
static void sem_wait_intr(sem_t *s);

static void wait_kernel_end(void)
{
    if (__atomic_exchange_n(&M.waiter, 1, __ATOMIC_ACQ_REL) == 0) {
        sem_wait_intr(&E.done);
        guard_release();
        __atomic_store_n(&M.kernel_over, 1, __ATOMIC_RELEASE);
    } else {
        while (!__atomic_load_n(&M.kernel_over, __ATOMIC_ACQUIRE))
            sched_yield();
    }
}

/* "byte 16 of the weights [0x...,+4096)": which registered buffer holds a, for the fault report. Called in the
 * signal handler: the lock is only tried (a thread stopped in the middle of an update would deadlock us). */
static void describe_address(char *out, size_t size, uintptr_t a)
{
    const range_t *best = NULL;
    size_t i;

    if (pthread_rwlock_tryrdlock(&R.lock) != 0) {
        snprintf(out, size, "in main memory shared with the kernels");
        return;
    }
    for (i = 0; i < R.n && R.v[i].lo <= a; i++) /* the innermost: views of a buffer may be registered too */
        if (a < R.v[i].hi && (!best || R.v[i].hi - R.v[i].lo <= best->hi - best->lo))
            best = &R.v[i];
    if (best)
        snprintf(out, size, "byte %zu of %s [%p,+%zu)", (size_t)(a - best->lo),
                 best->label[0] ? best->label : "a buffer from swmlir_alloc", (void *)best->lo,
                 (size_t)(best->hi - best->lo));
    else
        snprintf(out, size, "in main memory shared with the kernels, in no live buffer");
    pthread_rwlock_unlock(&R.lock);
}

static int host_retries; /* faults of host threads in the object since the last spawn (see guard_fault) */

/* SIGSEGV at addr while the guard may be engaged. CPE code: the error, with kernel, CPE, address and buffer
 * (does not return). A host thread: wait for the kernel to end, then return 1 (the access is retried and goes
 * through). 0: not the guard's fault. */
static int guard_fault(const cpe_t *c, const char *addr, void *uc)
{
    char where[256], buf[768];
    const char *kind = "access";
    int n;

    if (!in_object((uintptr_t)addr))
        return 0;
    if (!c) { /* a host thread */
        if (__atomic_load_n(&M.engaged, __ATOMIC_ACQUIRE)) {
            wait_kernel_end();
            return 1;
        }
        /* released meanwhile by another host thread's join: retry, but never forever */
        return __atomic_add_fetch(&host_retries, 1, __ATOMIC_RELAXED) < 1000;
    }
    if (!c->in_kernel || !__atomic_load_n(&M.engaged, __ATOMIC_ACQUIRE))
        return 0;
    claim_failure();
#if defined(__x86_64__)
    kind = (((ucontext_t *)uc)->uc_mcontext.gregs[REG_ERR] & 2) ? "store" : "load";
#else
    (void)uc;
#endif
    describe_address(where, sizeof where, (uintptr_t)addr);
    n = snprintf(buf, sizeof buf,
                 "swmlir-emulator: error: kernel '%s' (launch %ld), CPE %d, direct %s: address %p is %s in main "
                 "memory: CPE code may reach main memory only by DMA (athread_get / athread_put), a direct "
                 "load or store is a gld/gst on the machine%s\n",
                 E.name ? E.name : "?", E.launch, c->id, kind, (const void *)addr, where,
                 E.env_count ? " (SWMLIR_EMU_DIRECT_ACCESS=count takes effect when the kernels are built with it)"
                             : "");
    if (n > 0 && write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1) < 0)
        n = 0;
    _exit(EXIT_EMULATOR_ERROR);
}

/* What the counters file says about direct accesses. */
static const char *direct_access_mode(void)
{
    return M.counting ? "counted" : guard_possible() ? "guarded" : "unguarded";
}

/* The opt-in mode: a direct access of n bytes at p by CPE code (direct_count.c's hooks of the instrumented kernels,
 * and swmlir_emu_memcpy / memmove / memset). Counted when p is main memory shared with the kernels. */
void swmlir_emu_direct_access(const void *p, size_t n, int store)
{
    uintptr_t a = (uintptr_t)p;
    cpe_t *c;
    uint64_t requests = (n + 7) / 8;

    if (!n)
        return;
    if (!in_object(a)) {
        int main_memory = 0;
        size_t i;
        if (!__atomic_load_n(&R.foreign, __ATOMIC_RELAXED))
            return;
        pthread_rwlock_rdlock(&R.lock);
        for (i = 0; i < R.n && R.v[i].lo <= a && !main_memory; i++)
            main_memory = a < R.v[i].hi;
        pthread_rwlock_unlock(&R.lock);
        if (!main_memory)
            return;
    }
    c = self_cpe();
    if (!c || !c->in_kernel) /* the host's own accesses are not gld/gst */
        return;
    if (store) {
        c->c.gst_requests += requests;
        c->c.gst_bytes += n;
    } else {
        c->c.gld_requests += requests;
        c->c.gld_bytes += n;
    }
}

void *swmlir_emu_memcpy(void *dst, const void *src, size_t n)
{
    swmlir_emu_direct_access(src, n, 0);
    swmlir_emu_direct_access(dst, n, 1);
    return memcpy(dst, src, n);
}

void *swmlir_emu_memmove(void *dst, const void *src, size_t n)
{
    swmlir_emu_direct_access(src, n, 0);
    swmlir_emu_direct_access(dst, n, 1);
    return memmove(dst, src, n);
}

void *swmlir_emu_memset(void *dst, int v, size_t n)
{
    swmlir_emu_direct_access(dst, n, 1);
    return memset(dst, v, n);
}

/* ------------------------------------------------------------------------------------------------------------
 * LDM accounting and checks
 * ---------------------------------------------------------------------------------------------------------- */

static size_t ldm_in_use(const cpe_t *c, size_t *stack, size_t *heap)
{
    *stack = (size_t)(c->top - c->stack_low);
    *heap = c->heap_high;
    return *stack + *heap + E.tls_bytes;
}

static void ldm_account(cpe_t *c, const char *call)
{
    size_t stack, heap, use = ldm_in_use(c, &stack, &heap);
    if (use > E.ldm_bytes)
        emu_fail(c, call,
                 "LDM overflow: %zu bytes in use > %zu (stack %zu + ldm_malloc %zu + __thread_local %zu; "
                 "LDM size from SWMLIR_LDM_BYTES)",
                 use, E.ldm_bytes, stack, heap, E.tls_bytes);
    if (use > c->c.ldm_peak)
        c->c.ldm_peak = use;
}

/* Which CPE's LDM (stack, heap or TLS) holds a, or -1. */
static int ldm_owner(const char *a)
{
    int i;
    if (a >= E.stacks && a < E.stacks + E.stacks_len) /* glibc puts the TLS at the top of these stacks too */
        return (int)((size_t)(a - E.stacks) / (E.guard_bytes + E.stack_bytes));
    if (a >= E.heaps && a < E.heaps + E.heaps_len)
        return (int)((size_t)(a - E.heaps) / E.ldm_bytes);
    for (i = 0; i < NCPE; i++)
        if (E.cpes[i].tls_lo && a >= E.cpes[i].tls_lo && a < E.cpes[i].tls_lo + E.tls_bytes)
            return i;
    return -1;
}

/* Index of the last registered LDM array of c starting at or before p, or -1. */
static long array_floor(const cpe_t *c, const char *p)
{
    long lo = 0, hi = (long)c->narrays - 1, best = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (c->arrays[mid].lo <= p) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

/* [p, p + n) on the CPE stack against the kernel's registered LDM arrays: starting in one, it must end in it (else it
 * overflows into the next array, or past the end into other stack data); starting in none, it must not run into
 * one. Nothing is checked when the kernel registered no array (hand-written kernels). */
static void check_arrays(cpe_t *c, const char *call, const char *what, const char *p, size_t n)
{
    long i;
    const ldm_array_t *a, *next;

    if (!c->narrays)
        return;
    i = array_floor(c, p);
    next = (size_t)(i + 1) < c->narrays ? &c->arrays[i + 1] : NULL;
    if (next && next->lo >= p + n)
        next = NULL; /* the range does not reach the next array */
    if (i >= 0 && p < c->arrays[i].lo + c->arrays[i].bytes) {
        a = &c->arrays[i];
        if (p + n <= a->lo + a->bytes)
            return;
        if (next)
            emu_fail(c, call,
                     "%s [%p,+%zu) starts at byte %zu of LDM array %s [%p,+%zu) and runs %zu bytes past its end, "
                     "%zu of them into LDM array %s [%p,+%zu)",
                     what, (const void *)p, n, (size_t)(p - a->lo), a->name, (void *)a->lo, a->bytes,
                     (size_t)(p + n - (a->lo + a->bytes)), (size_t)(p + n - next->lo), next->name,
                     (void *)next->lo, next->bytes);
        emu_fail(c, call, "%s [%p,+%zu) starts at byte %zu of LDM array %s [%p,+%zu) and runs %zu bytes past its end",
                 what, (const void *)p, n, (size_t)(p - a->lo), a->name, (void *)a->lo, a->bytes,
                 (size_t)(p + n - (a->lo + a->bytes)));
    }
    if (next)
        emu_fail(c, call, "%s [%p,+%zu) starts in no LDM array of the kernel and runs %zu bytes into LDM array %s "
                 "[%p,+%zu)", what, (const void *)p, n, (size_t)(p + n - next->lo), next->name, (void *)next->lo,
                 next->bytes);
}

/* [p, p + n) must be in this CPE's LDM: its stack below the LDM top, a live ldm_malloc block, or its
 * __thread_local data. Updates the LDM use of the launch. */
static void check_ldm(cpe_t *c, const char *call, const char *what, char *p, size_t n)
{
    /* TLS first: glibc puts it at the top of the thread's stack mapping, above the LDM top. */
    if (c->tls_lo && p >= c->tls_lo && p < c->tls_lo + E.tls_bytes) {
        if (p + n > c->tls_lo + E.tls_bytes)
            emu_fail(c, call, "%s [%p,+%zu) runs past the end of the __thread_local data", what, (void *)p, n);
    } else if (p >= c->stack_lo && p < c->stack_hi) {
        if (p + n > c->top)
            emu_fail(c, call,
                     "%s [%p,+%zu) ends %td bytes above the LDM top (it is not inside the kernel's stack frames)",
                     what, (void *)p, n, p + n - c->top);
        check_arrays(c, call, what, p, n);
        if (p < c->stack_low)
            c->stack_low = p;
    } else if (p >= c->heap && p < c->heap + E.ldm_bytes) {
        size_t off = (size_t)(p - c->heap), i;
        for (i = 0; i < c->nblocks && c->blocks[i].off + c->blocks[i].asked <= off; i++)
            ;
        if (i == c->nblocks || off < c->blocks[i].off)
            emu_fail(c, call, "%s [%p,+%zu) is in the ldm_malloc heap but not in a live block", what, (void *)p, n);
        if (off + n > c->blocks[i].off + c->blocks[i].asked)
            emu_fail(c, call, "%s [%p,+%zu) runs %zu bytes past the end of its %zu-byte ldm_malloc block", what,
                     (void *)p, n, off + n - c->blocks[i].off - c->blocks[i].asked, c->blocks[i].asked);
    } else {
        int owner = ldm_owner(p);
        if (owner >= 0)
            emu_fail(c, call, "%s [%p,+%zu) is in the LDM of CPE %d, not of CPE %d", what, (void *)p, n, owner,
                     c->id);
        if (in_registered((uintptr_t)p))
            emu_fail(c, call, "%s [%p,+%zu) points into main memory (a registered buffer), not into LDM", what,
                     (void *)p, n);
        emu_fail(c, call,
                 "%s [%p,+%zu) is not in this CPE's LDM (a local array of the kernel, an ldm_malloc block or "
                 "__thread_local data)",
                 what, (void *)p, n);
    }
    ldm_account(c, call);
}

/* Index of the last tensor starting at or before a, or -1 (under R.lock). */
static long tensor_floor(uintptr_t a)
{
    return floor_index(T.v, T.n, sizeof *T.v, a);
}

/* The tensors of the main-memory side [a, a + span) of a DMA (before the buffer check: an overrun of a tensor is
 * reported as such even when it also leaves the buffer). Starting in a registered tensor, the range must end in
 * it. Starting in none, it must not start in a buffer that holds tensors. Nothing is checked when no tensor is
 * registered (hand-written hosts). */
static void check_tensors(cpe_t *c, const char *call, uintptr_t a, size_t span)
{
    uintptr_t b = a + span;
    tensor_t t, next;
    range_t buf;
    long i, k;
    int over = 0, stray = 0;

    pthread_rwlock_rdlock(&R.lock);
    if (!T.n) {
        pthread_rwlock_unlock(&R.lock);
        return;
    }
    i = tensor_floor(a);
    memset(&next, 0, sizeof next);
    if ((size_t)(i + 1) < T.n)
        next = T.v[i + 1];
    if (i >= 0 && a < T.v[i].hi) {
        t = T.v[i];
        over = b > t.hi;
    } else {
        memset(&buf, 0, sizeof buf); /* the innermost buffer holding a */
        for (k = range_floor(a); k >= 0; k--)
            if (a < R.v[k].hi && (!buf.hi || R.v[k].hi - R.v[k].lo < buf.hi - buf.lo))
                buf = R.v[k];
        memset(&t, 0, sizeof t);
        if (i >= 0)
            t = T.v[i];
        stray = buf.hi && ((i >= 0 && t.lo >= buf.lo && t.hi <= buf.hi) || (next.hi && next.lo < buf.hi));
    }
    pthread_rwlock_unlock(&R.lock);
    if (over)
        emu_fail(c, call, "main-memory range [%p,+%zu) starts at byte %zu of %s [%p,+%zu) and runs %zu bytes past its "
                 "end%s%s", (void *)a, span, (size_t)(a - t.lo), t.name, (void *)t.lo, (size_t)(t.hi - t.lo),
                 (size_t)(b - t.hi), next.hi && next.lo < b ? ", into " : "", next.hi && next.lo < b ? next.name : "");
    if (stray) {
        char where[160];
        if (i >= 0 && t.lo >= buf.lo)
            snprintf(where, sizeof where, "%zu bytes past the end of %s", (size_t)(a - t.hi), t.name);
        else
            snprintf(where, sizeof where, "%zu bytes before %s", (size_t)(next.lo - a), next.name);
        emu_fail(c, call, "main-memory range [%p,+%zu) is in %s [%p,+%zu) but starts in none of its tensors (%s)",
                 (void *)a, span, buf.label[0] ? buf.label : "a buffer", (void *)buf.lo, (size_t)(buf.hi - buf.lo),
                 where);
    }
}

/* The shadow tags of [lo, lo + bytes) on a CPE stack. */
static void shadow_fill(const char *lo, size_t bytes, unsigned short tag)
{
    size_t first, last, i;
    if (!shadow_tags || !bytes)
        return;
    first = (size_t)(lo - E.stacks) / SHADOW_GRANULE;
    last = (size_t)(lo + bytes - 1 - E.stacks) / SHADOW_GRANULE;
    for (i = first; i <= last; i++)
        shadow_tags[i] = tag;
}

static unsigned short shadow_at(const char *p)
{
    return shadow_tags && p >= E.stacks && p < E.stacks + E.stacks_len
               ? shadow_tags[(size_t)(p - E.stacks) / SHADOW_GRANULE]
               : 0;
}

/* swmlir_ldm_array: the local array [p, p + bytes) of the running kernel, called `name` in its C. On the CPE stack
 * only (elsewhere -- a sanitizer's fake stack -- nothing is registered). It counts in the LDM in use at once. The
 * same array again (a loop's scope) keeps its record; one in the place of others (scopes that ended) replaces
 * them. */
void swmlir_emu_ldm_array(const void *p, size_t bytes, const char *name)
{
    cpe_t *c = require_cpe("swmlir_ldm_array");
    char *lo = (char *)p;
    size_t i, k = 0, stack, heap, use;
    unsigned short tag;

    if (!bytes || lo < c->stack_lo || lo >= c->top)
        return;
    if (lo + bytes > c->top)
        emu_fail(c, "swmlir_ldm_array", "LDM array %s [%p,+%zu) ends %td bytes above the LDM top", name, p, bytes,
                 lo + bytes - c->top);
    for (i = 0; i < c->narrays; i++)
        if (c->arrays[i].lo == lo && c->arrays[i].bytes == bytes) {
            c->arrays[i].name = name ? name : "?";
            return; /* counted when first registered */
        }
    for (i = 0; i < c->narrays; i++) { /* arrays of a scope that ended: this one has their place */
        if (c->arrays[i].lo + c->arrays[i].bytes <= lo || c->arrays[i].lo >= lo + bytes)
            c->arrays[k++] = c->arrays[i];
        else
            shadow_fill(c->arrays[i].lo, c->arrays[i].bytes, 0);
    }
    c->narrays = k;
    if (c->narrays == c->caparrays) {
        size_t cap = c->caparrays ? 2 * c->caparrays : 32;
        ldm_array_t *v = (ldm_array_t *)realloc(c->arrays, cap * sizeof *v);
        if (!v)
            emu_fail(c, "swmlir_ldm_array", "out of host memory");
        c->arrays = v;
        c->caparrays = cap;
    }
    /* a tag that neither neighbour in the shadow has, so that an access across the boundary sees two tags */
    do {
        tag = c->next_tag ? c->next_tag : 1;
        c->next_tag = (unsigned short)(tag + 1);
    } while (tag == shadow_at(lo - 1) || tag == shadow_at(lo + bytes));
    shadow_fill(lo, bytes, tag);
    for (i = c->narrays; i > 0 && c->arrays[i - 1].lo > lo; i--)
        c->arrays[i] = c->arrays[i - 1];
    c->arrays[i].lo = lo;
    c->arrays[i].bytes = bytes;
    c->arrays[i].name = name ? name : "?";
    c->arrays[i].tag = tag;
    c->narrays++;
    if (lo < c->stack_low)
        c->stack_low = lo;
    use = ldm_in_use(c, &stack, &heap);
    if (use > E.ldm_bytes)
        emu_fail(c, "swmlir_ldm_array",
                 "LDM overflow: local array %s of %zu bytes brings the LDM in use to %zu bytes > %zu (stack %zu + "
                 "ldm_malloc %zu + __thread_local %zu; LDM size from SWMLIR_LDM_BYTES)",
                 c->arrays[i].name, bytes, use, E.ldm_bytes, stack, heap, E.tls_bytes);
    ldm_account(c, "swmlir_ldm_array");
}

/* The SIMD helpers' loads and stores whose first and last bytes have different shadow tags (swmlir_emu_ldm_check):
 * the exact check against the kernel's LDM arrays. */
void swmlir_emu_ldm_access(const void *p, size_t n, const char *call)
{
    cpe_t *c = self_cpe();
    const char *a = (const char *)p;

    if (!c || !c->in_kernel || a < c->stack_lo || a >= c->top)
        return;
    check_arrays(c, call, "vector", a, n);
}

static void check_main(cpe_t *c, const char *call, const char *mem, size_t span)
{
    range_t near;
    int any, owner;

    owner = ldm_owner(mem);
    if (owner < 0)
        owner = ldm_owner(mem + span - 1);
    if (owner >= 0)
        emu_fail(c, call, "main-memory range [%p,+%zu) points into the LDM of CPE %d", (const void *)mem, span,
                 owner);
    check_tensors(c, call, (uintptr_t)mem, span);
    if (!range_check((uintptr_t)mem, (uintptr_t)mem + span, &near, &any)) {
        if (near.lo)
            emu_fail(c, call,
                     "main-memory range [%p,+%zu) runs %zu bytes past the end of the registered buffer [%p,+%zu)",
                     (const void *)mem, span, (size_t)((uintptr_t)mem + span - near.hi), (void *)near.lo,
                     (size_t)(near.hi - near.lo));
        emu_fail(c, call, "main-memory range [%p,+%zu) outside every registered buffer (swmlir_alloc / "
                 "swmlir_register_buffer)", (const void *)mem, span);
    }
}

/* ------------------------------------------------------------------------------------------------------------
 * DMA
 * ---------------------------------------------------------------------------------------------------------- */

#define CRTS_FIELD_LIMIT (1 << 18) /* CRTS descriptors keep size and bsize in 18 bits (reference/sunway.md 2.1) */

/* The rules of reference/sunway.md (1.3, 2.1, 3.2) and, where it gives none, the element's granularity. It gives no
 * alignment or granularity rule for the LDM and main-memory addresses or for len / stride / bsize (128-byte aligned
 * buffers are common practice there, not a rule), so those are checked against the element the call site moves
 * (elem, from the pointer types: slave.h's SWMLIR_EMU_ELEM; 1 = bytes, nothing to check). */
static void check_dma_words(cpe_t *c, const char *call, const char *mem, const char *ldm, int len, void *reply,
                            int stride, int bsize, size_t elem)
{
    if (reply && (uintptr_t)reply % 4 != 0) /* 1.3: an LDM variable, 4-byte aligned */
        emu_fail(c, call, "reply word %p is not 4-byte aligned (the DMA engine writes an aligned LDM word)", reply);
    if (strncmp(call, "CRTS_", 5) == 0 && (len >= CRTS_FIELD_LIMIT || bsize >= CRTS_FIELD_LIMIT))
        emu_fail(c, call, "%s %d does not fit the 18-bit field of a CRTS DMA descriptor (at most %d bytes)",
                 len >= CRTS_FIELD_LIMIT ? "len" : "bsize", len >= CRTS_FIELD_LIMIT ? len : bsize,
                 CRTS_FIELD_LIMIT - 1);
    if (elem <= 1)
        return;
    if ((uintptr_t)ldm % elem || (uintptr_t)mem % elem) {
        int in_ldm = (uintptr_t)ldm % elem != 0;
        emu_fail(c, call, "%s address %p is not a multiple of %zu bytes, the size of the element moved (it is %zu "
                 "bytes past one)", in_ldm ? "LDM" : "main-memory", in_ldm ? (const void *)ldm : (const void *)mem,
                 elem, (size_t)((in_ldm ? (uintptr_t)ldm : (uintptr_t)mem) % elem));
    }
    if (len % (long)elem || bsize % (long)elem || stride % (long)elem) {
        const char *word = len % (long)elem ? "len" : bsize % (long)elem ? "bsize" : "stride";
        emu_fail(c, call, "%s %d is not a multiple of %zu bytes, the size of the element moved (len %d, stride %d, "
                 "bsize %d)", word, word[0] == 'l' ? len : word[0] == 'b' ? bsize : stride, elem, len, stride, bsize);
    }
}

/* One request of `call` (athread_get/put or a CRTS_dma_* form). reply == NULL: a blocking CRTS form, which has no
 * reply word of the caller's. elem: the element the call site moves, in bytes (1: bytes, or unknown). */
static int dma(const char *call, int is_get, char *mem, char *ldm, int len, void *reply, int stride, int bsize,
               size_t elem)
{
    cpe_t *c = require_cpe(call);
    size_t nblocks, block, pitch, span, i;

    if (len <= 0 || stride < 0 || bsize < 0)
        emu_fail(c, call, "len %d, stride %d, bsize %d: len must be > 0, stride and bsize >= 0", len, stride, bsize);
    if ((stride == 0 && bsize == 0) || bsize == len) {
        nblocks = 1; /* contiguous */
        block = (size_t)len;
    } else {
        if (bsize == 0)
            emu_fail(c, call, "stride %d with bsize 0 (a strided DMA needs bsize > 0)", stride);
        if (len % bsize != 0)
            emu_fail(c, call, "len %d is not a multiple of bsize %d", len, bsize);
        nblocks = (size_t)(len / bsize);
        block = (size_t)bsize;
    }
    pitch = block + (size_t)stride;
    span = (nblocks - 1) * pitch + block;
    if (!mem || !ldm)
        emu_fail(c, call, "null pointer (main memory %p, LDM %p)", (void *)mem, (void *)ldm);
    check_dma_words(c, call, mem, ldm, len, reply, stride, bsize, elem);

    if (reply)
        check_ldm(c, call, "reply word", (char *)reply, sizeof(int));
    check_ldm(c, call, "LDM range", ldm, (size_t)len);
    check_main(c, call, mem, span);
    mem = dma_view(mem); /* the program's view of main memory is closed while the kernel runs */

    for (i = 0; i < nblocks; i++) {
        if (is_get)
            memcpy(ldm + i * block, mem + i * pitch, block);
        else
            memcpy(mem + i * pitch, ldm + i * block, block);
    }
    if (is_get) {
        c->c.get_requests++;
        c->c.get_bytes += (uint64_t)len;
    } else {
        c->c.put_requests++;
        c->c.put_bytes += (uint64_t)len;
    }
    hist_add(&c->c.blocks, block, nblocks);
    if (!is_get)
        hist_add(&c->c.put_blocks, block, nblocks);
    if (reply)
        *(volatile int *)reply += 1; /* completion, after the data is in place */
    return 0;
}

static void athread_dma_args(const char *call, dma_mode mode, void *reply)
{
    cpe_t *c = require_cpe(call);
    if ((unsigned)mode != PE_MODE)
        emu_fail(c, call, "mode %s not emulated (only PE_MODE)",
                 (unsigned)mode < 5 ? mode_names[mode] : "(invalid)");
    if (!reply)
        emu_fail(c, call, "null reply word");
}

/* The call sites of kernel code come here through slave.h's macros, with the element they move; the functions
 * themselves (the LLVM IR output calls them) move bytes. */
int swmlir_emu_athread_get_t(size_t elem, dma_mode mode, void *src_mem, void *dst_ldm, int len, void *reply,
                             char mask, int stride, int bsize)
{
    (void)mask; /* row mask: broadcast modes only */
    athread_dma_args("athread_get", mode, reply);
    return dma("athread_get", 1, (char *)src_mem, (char *)dst_ldm, len, reply, stride, bsize, elem);
}

int swmlir_emu_athread_put_t(size_t elem, dma_mode mode, void *src_ldm, void *dst_mem, int len, void *reply,
                             int stride, int bsize)
{
    athread_dma_args("athread_put", mode, reply);
    return dma("athread_put", 0, (char *)dst_mem, (char *)src_ldm, len, reply, stride, bsize, elem);
}

int athread_get(dma_mode mode, void *src_mem, void *dst_ldm, int len, void *reply, char mask, int stride, int bsize)
{
    return swmlir_emu_athread_get_t(1, mode, src_mem, dst_ldm, len, reply, mask, stride, bsize);
}

int athread_put(dma_mode mode, void *src_ldm, void *dst_mem, int len, void *reply, int stride, int bsize)
{
    return swmlir_emu_athread_put_t(1, mode, src_ldm, dst_mem, len, reply, stride, bsize);
}

/* CRTS DMA: the same requests in the CRTS argument order (LDM first for gets, main memory first for puts); the
 * strided forms take bsize before stride. Counted exactly as athread_get / athread_put. */
static void *crts_reply(const char *call, crts_rply_t *rply)
{
    if (!rply)
        emu_fail(require_cpe(call), call, "null reply word");
    return (void *)(uintptr_t)rply; /* the word is written once the copy is done, as athread_get's */
}

/* The CRTS forms, by the order of crts.h's SWMLIR_EMU_CRTS_* (i-forms first, then the blocking ones). */
static const struct {
    const char *call;
    int is_get, strided, blocking;
} crts_forms[] = {
    {"CRTS_dma_iget", 1, 0, 0},        {"CRTS_dma_iput", 0, 0, 0},
    {"CRTS_dma_iget_stride", 1, 1, 0}, {"CRTS_dma_iput_stride", 0, 1, 0},
    {"CRTS_dma_get", 1, 0, 1},         {"CRTS_dma_put", 0, 0, 1},
    {"CRTS_dma_get_stride", 1, 1, 1},  {"CRTS_dma_put_stride", 0, 1, 1},
};

int swmlir_emu_crts_dma_t(size_t elem, int form, void *mem, void *ldm, int len, int bsize, int stride,
                          crts_rply_t *rply)
{
    const char *call;

    if (form < 0 || (size_t)form >= sizeof crts_forms / sizeof crts_forms[0])
        emu_fail(require_cpe("CRTS_dma"), "CRTS_dma", "unknown form %d", form);
    call = crts_forms[form].call;
    if (!crts_forms[form].strided)
        bsize = stride = 0;
    return dma(call, crts_forms[form].is_get, (char *)mem, (char *)ldm, len,
               crts_forms[form].blocking ? NULL : crts_reply(call, rply), stride, bsize, elem);
}

int CRTS_dma_iget(void *ldm, const void *mem, int len, crts_rply_t *rply)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_IGET, (void *)mem, ldm, len, 0, 0, rply);
}

int CRTS_dma_iput(void *mem, const void *ldm, int len, crts_rply_t *rply)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_IPUT, mem, (void *)ldm, len, 0, 0, rply);
}

int CRTS_dma_iget_stride(void *ldm, const void *mem, int len, int bsize, int stride, crts_rply_t *rply)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_IGET_STRIDE, (void *)mem, ldm, len, bsize, stride, rply);
}

int CRTS_dma_iput_stride(void *mem, const void *ldm, int len, int bsize, int stride, crts_rply_t *rply)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_IPUT_STRIDE, mem, (void *)ldm, len, bsize, stride, rply);
}

int CRTS_dma_get(void *ldm, const void *mem, int len)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_GET, (void *)mem, ldm, len, 0, 0, NULL);
}

int CRTS_dma_put(void *mem, const void *ldm, int len)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_PUT, mem, (void *)ldm, len, 0, 0, NULL);
}

int CRTS_dma_get_stride(void *ldm, const void *mem, int len, int bsize, int stride)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_GET_STRIDE, (void *)mem, ldm, len, bsize, stride, NULL);
}

int CRTS_dma_put_stride(void *mem, const void *ldm, int len, int bsize, int stride)
{
    return swmlir_emu_crts_dma_t(1, SWMLIR_EMU_CRTS_PUT_STRIDE, mem, (void *)ldm, len, bsize, stride, NULL);
}

int CRTS_dma_wait_value(crts_rply_t *rply, int value)
{
    cpe_t *c = require_cpe("CRTS_dma_wait_value");
    if (!rply)
        emu_fail(c, "CRTS_dma_wait_value", "null reply word");
    if (*rply < value)
        emu_fail(c, "CRTS_dma_wait_value",
                 "waiting for the reply word to reach %d but it holds %d: this would spin forever "
                 "(DMAs complete when issued in the emulator)",
                 value, *rply);
    return 0;
}

void swmlir_emu_dma_wait_check(volatile int *reply, int count)
{
    cpe_t *c = require_cpe("swmlir_dma_wait");
    if (*reply != count)
        emu_fail(c, "swmlir_dma_wait",
                 "waiting for %d DMA replies but the reply word holds %d: this would spin forever "
                 "(DMAs complete when issued in the emulator)",
                 count, *reply);
}

/* ------------------------------------------------------------------------------------------------------------
 * LDM heap: first fit over the sorted live blocks; the high-water mark is what the heap takes from the LDM.
 * ---------------------------------------------------------------------------------------------------------- */

void *ldm_malloc(size_t size)
{
    cpe_t *c = require_cpe("ldm_malloc");
    size_t want = ((size ? size : 1) + LDM_HEAP_ALIGN - 1) / LDM_HEAP_ALIGN * LDM_HEAP_ALIGN;
    size_t off = 0, i;

    for (i = 0; i < c->nblocks && c->blocks[i].off < off + want; i++)
        off = c->blocks[i].off + c->blocks[i].size;
    if (off + want > E.ldm_bytes)
        emu_fail(c, "ldm_malloc", "LDM overflow: ldm_malloc(%zu) does not fit (heap blocks end at %zu, LDM %zu)",
                 size, off, E.ldm_bytes);
    if (c->nblocks == c->capblocks) {
        size_t cap = c->capblocks ? 2 * c->capblocks : 16;
        ldm_block_t *b = (ldm_block_t *)realloc(c->blocks, cap * sizeof *b);
        if (!b)
            emu_fail(c, "ldm_malloc", "out of host memory");
        c->blocks = b;
        c->capblocks = cap;
    }
    memmove(&c->blocks[i + 1], &c->blocks[i], (c->nblocks - i) * sizeof *c->blocks);
    c->blocks[i].off = off;
    c->blocks[i].size = want;
    c->blocks[i].asked = size;
    c->nblocks++;
    if (off + want > c->heap_high)
        c->heap_high = off + want;
    ldm_account(c, "ldm_malloc");
    return c->heap + off;
}

void ldm_free(void *p, size_t size)
{
    cpe_t *c = require_cpe("ldm_free");
    size_t i;

    for (i = 0; i < c->nblocks && c->heap + c->blocks[i].off != (char *)p; i++)
        ;
    if (i == c->nblocks)
        emu_fail(c, "ldm_free", "%p is not a live block from ldm_malloc", p);
    if (size != c->blocks[i].asked)
        emu_fail(c, "ldm_free", "size %zu given, the block was allocated with ldm_malloc(%zu)", size,
                 c->blocks[i].asked);
    memmove(&c->blocks[i], &c->blocks[i + 1], (c->nblocks - i - 1) * sizeof *c->blocks);
    c->nblocks--;
    c->heap_high = c->nblocks ? c->blocks[c->nblocks - 1].off + c->blocks[c->nblocks - 1].size : 0;
}

size_t get_allocatable_size(void)
{
    cpe_t *c = require_cpe("get_allocatable_size");
    size_t stack, heap, use = ldm_in_use(c, &stack, &heap);
    return use < E.ldm_bytes ? E.ldm_bytes - use : 0;
}

/* ------------------------------------------------------------------------------------------------------------
 * Ids and barriers
 * ---------------------------------------------------------------------------------------------------------- */

int athread_get_id(int core)
{
    if (core == -1) {
        cpe_t *c = self_cpe();
        return c ? c->id : -1;
    }
    return core >= 0 && core < NCPE ? core : -1; /* logical ids are the physical ones here */
}

int athread_get_core(int id)
{
    return id >= 0 && id < NCPE ? id : -1;
}

static void barrier_wait(cpe_t *c, barrier_t *b, const char *scope, const char *call)
{
    pthread_mutex_lock(&E.syn_mu);
    if (b->finished > 0)
        emu_fail(c, call, "deadlock: %d CPE(s) of this %s barrier already returned from the kernel",
                 b->finished, scope);
    if (++b->arrived == b->expected) {
        b->arrived = 0;
        b->phase++;
        E.blocked -= b->expected - 1;
        pthread_cond_broadcast(&b->cv);
    } else {
        unsigned long phase = b->phase;
        E.blocked++;
        if (E.blocked + E.rma_waiting + E.finished == E.nthreads)
            emu_fail(c, call,
                     "deadlock: no barrier can complete (%d CPE(s) wait in a barrier, %d for RMA data, %d "
                     "returned from the kernel)",
                     E.blocked, E.rma_waiting, E.finished);
        while (b->phase == phase)
            pthread_cond_wait(&b->cv, &E.syn_mu);
    }
    pthread_mutex_unlock(&E.syn_mu);
}

int athread_syn(int scope, int mask)
{
    cpe_t *c = require_cpe("athread_syn");
    int full = scope == ARRAY_SCOPE ? (mask & 0xffff) == 0xffff : (mask & 0xff) == 0xff;

    if (scope != ARRAY_SCOPE && scope != ROW_SCOPE && scope != COL_SCOPE)
        emu_fail(c, "athread_syn", "unknown scope %d", scope);
    if (!full)
        emu_fail(c, "athread_syn", "mask 0x%x not emulated (only full masks: 0xffff for ARRAY_SCOPE, 0xff for "
                 "ROW_SCOPE / COL_SCOPE)", (unsigned)mask);
    c->c.syncs++;
    if (scope == ARRAY_SCOPE)
        barrier_wait(c, &E.array, "ARRAY_SCOPE", "athread_syn");
    else if (scope == ROW_SCOPE)
        barrier_wait(c, &E.rows[c->id >> 3], "ROW_SCOPE", "athread_syn");
    else
        barrier_wait(c, &E.cols[c->id & 7], "COL_SCOPE", "athread_syn");
    return 0;
}

/* CRTS barriers: the same groups as athread_syn's scopes, counted alike. */
int CRTS_ssync_array(void)
{
    cpe_t *c = require_cpe("CRTS_ssync_array");
    c->c.syncs++;
    barrier_wait(c, &E.array, "array", "CRTS_ssync_array");
    return 0;
}

int CRTS_ssync_row(void)
{
    cpe_t *c = require_cpe("CRTS_ssync_row");
    c->c.syncs++;
    barrier_wait(c, &E.rows[c->id >> 3], "row", "CRTS_ssync_row");
    return 0;
}

int CRTS_ssync_col(void)
{
    cpe_t *c = require_cpe("CRTS_ssync_col");
    c->c.syncs++;
    barrier_wait(c, &E.cols[c->id & 7], "column", "CRTS_ssync_col");
    return 0;
}

int swmlir_emu_crts_id(int what)
{
    cpe_t *c = require_cpe("CRTS_tid");
    switch (what) {
    case 0:
        return c->id;
    case 1:
        return c->id >> 3;
    case 2:
        return c->id & 7;
    default:
        return E.cg; /* the core group this CPE runs the kernel on (0 unless athread_spawn_cgs) */
    }
}

int swmlir_emu_cg_id(void)
{
    require_cpe("swmlir_cg_id");
    return E.cg;
}

/* The address in `to`'s LDM at the place p has in `from`'s: the same offset below the LDM top (stack), into the
 * ldm_malloc heap, or into the __thread_local data (on the machine: the same LDM address). NULL if p is not in
 * `from`'s LDM. */
static char *ldm_peer_address(const cpe_t *from, const cpe_t *to, char *p)
{
    if (from->tls_lo && p >= from->tls_lo && p < from->tls_lo + E.tls_bytes)
        return to->tls_lo ? to->tls_lo + (p - from->tls_lo) : NULL;
    if (p >= from->stack_lo && p < from->top)
        return to->top ? to->top - (from->top - p) : NULL;
    if (p >= from->heap && p < from->heap + E.ldm_bytes)
        return to->heap + (p - from->heap);
    return NULL;
}

/* RMA broadcast of len bytes from src (caller's LDM) to dst in the LDM of every CPE of the caller's row (axis 0)
 * or column (axis 1), the caller included; the receivers' reply words at r_rply are incremented, then the
 * caller's *l_rply. Copies and increments happen under syn_mu, so that CRTS_rma_wait_value sees the data with
 * the count. Counted as mesh bytes: what the other CPEs receive (the sender's own copy is not a transfer). */
static int rma_bcast(const char *call, int axis, char *dst, const char *src, int len, crts_rply_t *l_rply,
                     crts_rply_t *r_rply)
{
    cpe_t *c = require_cpe(call);
    char *peer_dst[8];
    crts_rply_t *peer_rply[8];
    int q, peers[8];

    if (len <= 0)
        emu_fail(c, call, "len %d: must be > 0", len);
    if (!dst || !src || !l_rply || !r_rply)
        emu_fail(c, call, "null pointer (dst %p, src %p, l_rply %p, r_rply %p)", (void *)dst, (const void *)src,
                 (void *)l_rply, (void *)r_rply);
    check_ldm(c, call, "source", (char *)src, (size_t)len);
    check_ldm(c, call, "destination", dst, (size_t)len);
    check_ldm(c, call, "local reply word", (char *)l_rply, sizeof(int));
    check_ldm(c, call, "remote reply word", (char *)r_rply, sizeof(int));
    for (q = 0; q < 8; q++) {
        cpe_t *to;
        peers[q] = axis ? q * 8 + (c->id & 7) : (c->id & ~7) + q;
        to = &E.cpes[peers[q]];
        if (peers[q] >= E.nthreads)
            emu_fail(c, call, "CPE %d of the %s is not in this spawn", peers[q], axis ? "column" : "row");
        peer_dst[q] = ldm_peer_address(c, to, dst);
        peer_rply[q] = (crts_rply_t *)ldm_peer_address(c, to, (char *)r_rply);
        if (!peer_dst[q] || !peer_rply[q])
            emu_fail(c, call, "CPE %d has no LDM at the destination's place (not running the kernel?)", peers[q]);
    }
    pthread_mutex_lock(&E.syn_mu);
    for (q = 0; q < 8; q++) {
        cpe_t *to = &E.cpes[peers[q]];
        if (peer_dst[q] != src)
            memmove(peer_dst[q], src, (size_t)len);
        *peer_rply[q] += 1;
        if (to->rma_blocked && *to->rma_wait_on >= to->rma_wait_for) {
            to->rma_blocked = 0; /* no longer blocked, though not yet awake */
            E.rma_waiting--;
        }
    }
    pthread_cond_broadcast(&E.rma_cv);
    pthread_mutex_unlock(&E.syn_mu);
    c->c.mesh_bytes += 7u * (uint64_t)len;
    *l_rply += 1;
    return 0;
}

int CRTS_rma_row_ibcast(void *dst, const void *src, int len, crts_rply_t *l_rply, crts_rply_t *r_rply)
{
    return rma_bcast("CRTS_rma_row_ibcast", 0, (char *)dst, (const char *)src, len, l_rply, r_rply);
}

int CRTS_rma_col_ibcast(void *dst, const void *src, int len, crts_rply_t *l_rply, crts_rply_t *r_rply)
{
    return rma_bcast("CRTS_rma_col_ibcast", 1, (char *)dst, (const char *)src, len, l_rply, r_rply);
}

int CRTS_rma_wait_value(crts_rply_t *rply, int value)
{
    cpe_t *c = require_cpe("CRTS_rma_wait_value");

    if (!rply)
        emu_fail(c, "CRTS_rma_wait_value", "null reply word");
    check_ldm(c, "CRTS_rma_wait_value", "reply word", (char *)rply, sizeof(int));
    pthread_mutex_lock(&E.syn_mu);
    if (*rply < value) {
        c->rma_wait_on = rply;
        c->rma_wait_for = value;
        c->rma_blocked = 1;
        E.rma_waiting++;
        if (E.blocked + E.rma_waiting + E.finished == E.nthreads)
            emu_fail(c, "CRTS_rma_wait_value",
                     "deadlock: waiting for the reply word to reach %d (it holds %d) but no CPE can still send "
                     "(%d wait in a barrier, %d for RMA data, %d returned from the kernel)",
                     value, *rply, E.blocked, E.rma_waiting, E.finished);
        while (c->rma_blocked) /* cleared by the RMA that brings the count to value */
            pthread_cond_wait(&E.rma_cv, &E.syn_mu);
    }
    pthread_mutex_unlock(&E.syn_mu);
    return 0;
}

/* Register communication over a row (axis 0) or column (axis 1) of the mesh, at the granularity of a whole tile:
 * the CPE at position p of its row (column) owns bytes [p * slice, (p + 1) * slice) of its buffer; afterwards all
 * 8 hold the whole 8 * slice bytes. On the machine this is a loop of broadcast putr/putc and getr/getc
 * (swmlir_slave.h); here each CPE copies the 7 other slices from its peers' LDM between two barriers of the row
 * (column), so a slice is read only after its owner has it and overwritten only after every peer has read it. */
void swmlir_emu_mesh_allgather(void *buf, int slice_bytes, int axis)
{
    cpe_t *c = require_cpe("swmlir_mesh_allgather");
    barrier_t *b = axis ? &E.cols[c->id & 7] : &E.rows[c->id >> 3];
    const char *scope = axis ? "column allgather" : "row allgather";
    int pos = axis ? c->id >> 3 : c->id & 7, q;

    if (axis != 0 && axis != 1)
        emu_fail(c, "swmlir_mesh_allgather", "axis %d (0 = row, 1 = column)", axis);
    if (slice_bytes <= 0)
        emu_fail(c, "swmlir_mesh_allgather", "slice of %d bytes", slice_bytes);
    check_ldm(c, "swmlir_mesh_allgather", "buffer", (char *)buf, (size_t)slice_bytes * 8);
    c->mesh_buf = (char *)buf;
    barrier_wait(c, b, scope, "swmlir_mesh_allgather");
    for (q = 0; q < 8; q++) {
        int peer = axis ? q * 8 + (c->id & 7) : (c->id & ~7) + q;
        size_t off = (size_t)q * (size_t)slice_bytes;
        if (q == pos)
            continue;
        memcpy(c->mesh_buf + off, E.cpes[peer].mesh_buf + off, (size_t)slice_bytes);
        c->c.mesh_bytes += (uint64_t)slice_bytes;
    }
    barrier_wait(c, b, scope, "swmlir_mesh_allgather");
}

/* sunway.mesh_gather_rows: strip row i of the CPE at position p = row p * tile_rows / 8 + first + i of the tiles of
 * positions 0..7 of its mesh row. Between two row barriers (the peers' tiles are read while they wait). Counts what
 * the register-communication code receives: from each of the 7 other roots, the rows of its 7 receivers. */
void swmlir_emu_mesh_gather_rows(const void *tile, void *strip, int tile_rows, int row_bytes, int first, int rows)
{
    cpe_t *c = require_cpe("swmlir_mesh_gather_rows");
    barrier_t *b = &E.rows[c->id >> 3];
    int pos = c->id & 7, per = tile_rows / 8, j, i;

    if (tile_rows <= 0 || tile_rows % 8 || row_bytes <= 0 || row_bytes % 32 || rows <= 0 || first < 0 ||
        first + rows > per)
        emu_fail(c, "swmlir_mesh_gather_rows", "tile of %d rows of %d bytes, rows %d..%d of each eighth", tile_rows,
                 row_bytes, first, first + rows);
    check_ldm(c, "swmlir_mesh_gather_rows", "tile", (char *)tile, (size_t)tile_rows * (size_t)row_bytes);
    check_ldm(c, "swmlir_mesh_gather_rows", "strip", (char *)strip, (size_t)rows * 8 * (size_t)row_bytes);
    c->mesh_buf = (char *)tile;
    barrier_wait(c, b, "row gather", "swmlir_mesh_gather_rows");
    for (j = 0; j < 8; j++) {
        const char *peer = E.cpes[(c->id & ~7) + j].mesh_buf;
        for (i = 0; i < rows; i++)
            memcpy((char *)strip + ((size_t)i * 8 + (size_t)j) * (size_t)row_bytes,
                   peer + (size_t)(pos * per + first + i) * (size_t)row_bytes, (size_t)row_bytes);
    }
    c->c.mesh_bytes += (uint64_t)49 * (uint64_t)rows * (uint64_t)row_bytes;
    barrier_wait(c, b, "row gather", "swmlir_mesh_gather_rows");
}

/* A CPE returned from the kernel: the barriers of its groups can no longer complete. */
static void kernel_returned(cpe_t *c)
{
    barrier_t *mine[3];
    int i;

    mine[0] = &E.array;
    mine[1] = &E.rows[c->id >> 3];
    mine[2] = &E.cols[c->id & 7];
    pthread_mutex_lock(&E.syn_mu);
    E.finished++;
    for (i = 0; i < 3; i++) {
        mine[i]->finished++;
        if (mine[i]->arrived > 0)
            emu_fail(c, "return from kernel",
                     "deadlock: returned while %d CPE(s) of its %s barrier wait for it in athread_syn",
                     mine[i]->arrived, i == 0 ? "ARRAY_SCOPE" : i == 1 ? "ROW_SCOPE" : "COL_SCOPE");
    }
    if (E.blocked + E.rma_waiting > 0 && E.blocked + E.rma_waiting + E.finished == E.nthreads)
        emu_fail(c, "return from kernel",
                 "deadlock: %d CPE(s) wait in a barrier and %d for RMA data, all others returned", E.blocked,
                 E.rma_waiting);
    pthread_mutex_unlock(&E.syn_mu);
}

/* ------------------------------------------------------------------------------------------------------------
 * The CPE threads
 * ---------------------------------------------------------------------------------------------------------- */

/* Not inlined: its frame address is the LDM top, everything the kernel puts on the stack lies below it. */
static void __attribute__((noinline)) run_kernel(cpe_t *c, void (*fn)(void *), void *arg)
{
    c->top = (char *)__builtin_frame_address(0);
    c->stack_low = c->top;
    c->in_kernel = 1;
    fn(arg);
    c->in_kernel = 0;
}

static void sem_wait_intr(sem_t *s)
{
    while (sem_wait(s) != 0 && errno == EINTR)
        ;
}

/* One semaphore per CPE rather than a broadcast: 64 threads waking on one mutex cost more than the kernels. */
static void *worker(void *p)
{
    cpe_t *c = (cpe_t *)p;
    tls_info_t tls = thread_tls();

    c->tls_lo = tls.data;
    pthread_setspecific(E.self_key, c);
    set_altstack(c->altstack);
    sem_post(&E.ready);
    for (;;) {
        sem_wait_intr(&c->go); /* the semaphore orders E's fields written by the spawner before our reads */
        if (E.stop)
            break;
        run_kernel(c, E.fn, E.arg);
        kernel_returned(c);
        if (__atomic_sub_fetch(&E.remaining, 1, __ATOMIC_ACQ_REL) == 0)
            sem_post(&E.done);
    }
    return NULL;
}

static size_t env_ldm_bytes(void)
{
    return env_bytes("SWMLIR_LDM_BYTES", SWMLIR_LDM_BYTES, 1024, 1ull << 30, "athread_init");
}

static void write_stats_at_exit(void);

int athread_init(void)
{
    static int once_done;
    size_t page = (size_t)sysconf(_SC_PAGESIZE), i;
    pthread_attr_t attr;

    pthread_mutex_lock(&E.mu);
    if (E.initialized) {
        pthread_mutex_unlock(&E.mu);
        return 0;
    }
    E.ldm_bytes = env_ldm_bytes();
    E.tls_bytes = thread_tls().bytes;
    /* Stack = LDM + host frames + the TLS block, which glibc carves from the top of a user-given stack. */
    E.stack_bytes = (E.ldm_bytes + HOST_STACK_EXTRA + E.tls_bytes + page - 1) / page * page;
    E.guard_bytes = page;
    E.stacks_len = NCPE * (E.guard_bytes + E.stack_bytes);
    E.stacks = (char *)mmap(NULL, E.stacks_len, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    E.heaps_len = NCPE * E.ldm_bytes;
    E.heaps = (char *)mmap(NULL, E.heaps_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                           -1, 0);
    if (E.stacks == MAP_FAILED || E.heaps == MAP_FAILED)
        emu_fail(NULL, "athread_init", "cannot map the CPE stacks and LDM heaps (%zu bytes)",
                 E.stacks_len + E.heaps_len);
    /* the shadow of the stacks (one tag per 4 bytes, and room for an access that ends past the last one) */
    shadow_bytes = (E.stacks_len / SHADOW_GRANULE + page) * sizeof *shadow_tags;
    shadow_tags = (unsigned short *)mmap(NULL, shadow_bytes, PROT_READ | PROT_WRITE,
                                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (shadow_tags == MAP_FAILED)
        emu_fail(NULL, "athread_init", "cannot map the shadow of the CPE stacks (%zu bytes)", shadow_bytes);
    swmlir_emu_ldm_shadow.base = E.stacks;
    swmlir_emu_ldm_shadow.len = E.stacks_len;
    swmlir_emu_ldm_shadow.tags = shadow_tags;
    if (!once_done) { /* things that survive athread_halt */
        pthread_key_create(&E.self_key, NULL);
        E.key_made = 1;
        sem_init(&E.done, 0, 0);
        sem_init(&E.ready, 0, 0);
        pthread_cond_init(&E.array.cv, NULL);
        for (i = 0; i < 8; i++) {
            pthread_cond_init(&E.rows[i].cv, NULL);
            pthread_cond_init(&E.cols[i].cv, NULL);
        }
        atexit(write_stats_at_exit);
        once_done = 1;
    }
    install_signal_handlers();
    {
        const char *d = getenv("SWMLIR_EMU_DIRECT_ACCESS");
        E.env_count = d && strcmp(d, "count") == 0;
    }
    E.stop = 0;
    E.active = 0;
    pthread_attr_init(&attr);
    for (i = 0; i < NCPE; i++) {
        cpe_t *c = &E.cpes[i];
        char *slot = E.stacks + i * (E.guard_bytes + E.stack_bytes);
        int rc;

        c->id = (int)i;
        c->stack_lo = slot + E.guard_bytes;
        c->stack_hi = c->stack_lo + E.stack_bytes;
        c->heap = E.heaps + i * E.ldm_bytes;
        sem_init(&c->go, 0, 0);
        if (!c->altstack)
            c->altstack = (char *)xcalloc(1, ALTSTACK_BYTES);
        mprotect(slot, E.guard_bytes, PROT_NONE); /* a kernel that overflows its stack faults here */
        pthread_attr_setstack(&attr, c->stack_lo, E.stack_bytes);
        rc = pthread_create(&c->thread, &attr, worker, c);
        if (rc != 0)
            emu_fail(NULL, "athread_init", "cannot create CPE thread %zu: %s", i, strerror(rc));
    }
    pthread_attr_destroy(&attr);
    for (i = 0; i < NCPE; i++) /* every tls_lo written before any kernel can look it up */
        sem_wait_intr(&E.ready);
    E.initialized = 1;
    pthread_mutex_unlock(&E.mu);
    return 0;
}

/* CRTS's host start: the same 64 CPE threads as athread_init. */
int CRTS_init(void)
{
    return athread_init();
}

/* The spawn argument as the CPEs see it. On the machine `arg` is an address in main memory that a CPE reads by
 * DMA (the emitted kernel entry fetches the argument struct into LDM with athread_get). Here the host's struct
 * (often on the host stack, which is not registered memory) is copied into the shared main-memory object and
 * registered for the spawn, so that DMA can read it and the guard covers it; athread_join copies it back if the
 * kernel changed it. An argument that already points into a registered buffer, or whose size is unknown (a void
 * pointer, or C++), is passed unchanged. */
static void *spawn_argument(void *arg, size_t bytes)
{
    if (!arg || !bytes || in_registered((uintptr_t)arg))
        return arg;
    if (bytes > E.arg_cap) {
        int handled = 0;
        size_t cap = (bytes + 4095) / 4096 * 4096;
        if (E.arg_copy && !swmlir_emu_free(E.arg_copy))
            free(E.arg_copy);
        E.arg_copy = (char *)swmlir_emu_alloc(cap, &handled);
        if (E.arg_copy)
            swmlir_emu_unregister_range(E.arg_copy); /* registered per spawn, with the struct's exact size */
        else
            E.arg_copy = (char *)xcalloc(1, cap);
        E.arg_cap = cap;
    }
    memcpy(E.arg_copy, arg, bytes);
    register_range(E.arg_copy, bytes, "the argument struct");
    E.host_arg = (char *)arg;
    E.arg_bytes = bytes;
    E.arg_registered = 1;
    return E.arg_copy;
}

int swmlir_emu_spawn(void (*fn)(void *), void *arg, size_t arg_bytes, const char *name)
{
    int i, n;

    if (!fn)
        emu_fail(NULL, "athread_spawn", "kernel '%s' is a null function", name ? name : "?");
    athread_init(); /* lazily, as a convenience; no-op when already done */
    pthread_mutex_lock(&E.mu);
    if (E.active)
        emu_fail(NULL, "athread_spawn",
                 "spawning kernel '%s' while kernel '%s' still runs (athread_join missing)", name ? name : "?",
                 E.name ? E.name : "?");
    n = E.next_nthreads;
    for (i = 0; i < n; i++) {
        counters_clear(&E.cpes[i].c);
        E.cpes[i].nblocks = 0; /* the LDM heap starts empty at every launch, and no LDM array is registered */
        while (E.cpes[i].narrays > 0) {
            const ldm_array_t *l = &E.cpes[i].arrays[--E.cpes[i].narrays];
            shadow_fill(l->lo, l->bytes, 0);
        }
        E.cpes[i].heap_high = 0;
    }
    /* Barrier groups: the whole spawn, and the CPEs of each row / column taking part. */
    pthread_mutex_lock(&E.syn_mu);
    E.array.expected = n;
    for (i = 0; i < 8; i++) {
        int r, cnt_row = 0, cnt_col = 0;
        for (r = 0; r < 8; r++) {
            cnt_row += i * 8 + r < n;
            cnt_col += r * 8 + i < n;
        }
        E.rows[i].expected = cnt_row;
        E.cols[i].expected = cnt_col;
        E.rows[i].arrived = E.cols[i].arrived = E.rows[i].finished = E.cols[i].finished = 0;
    }
    E.array.arrived = E.array.finished = 0;
    E.blocked = E.finished = E.rma_waiting = 0;
    pthread_mutex_unlock(&E.syn_mu);

    free(E.name);
    E.name = strdup(name ? name : "?");
    pthread_mutex_lock(&S.mu);
    E.launch = S.next_launch++;
    pthread_mutex_unlock(&S.mu);
    E.fn = fn;
    E.arg = spawn_argument(arg, arg_bytes);
    E.nthreads = n;
    E.remaining = n;
    E.active = 1;
    M.waiter = M.kernel_over = 0;
    host_retries = 0;
    guard_engage(); /* from here to athread_join, main memory is reachable by DMA only */
    for (i = 0; i < n; i++)
        sem_post(&E.cpes[i].go);
    pthread_mutex_unlock(&E.mu);
    return 0;
}

int athread_join(void)
{
    launch_t rec;
    int i;

    pthread_mutex_lock(&E.mu);
    if (!E.active) {
        pthread_mutex_unlock(&E.mu);
        return 0;
    }
    wait_kernel_end(); /* and main memory is open again */
    E.active = 0;
    if (E.arg_registered) {
        swmlir_emu_unregister_range(E.arg_copy);
        if (memcmp(E.host_arg, E.arg_copy, E.arg_bytes) != 0) /* the kernel wrote into its argument */
            memcpy(E.host_arg, E.arg_copy, E.arg_bytes);
        E.arg_registered = 0;
    }

    /* The CPEs are idle: their counters can be read without races. */
    memset(&rec, 0, sizeof rec);
    rec.kernel = strdup(E.name);
    rec.launch = E.launch;
    for (i = 0; i < E.nthreads; i++) {
        const counters_t *cc = &E.cpes[i].c;
        uint64_t moved = cc->get_bytes + cc->put_bytes, direct = cc->gld_requests + cc->gst_requests;
        counters_merge(&rec.c, cc);
        if (moved > rec.max_cpe_dma_bytes)
            rec.max_cpe_dma_bytes = moved;
        if (direct > rec.max_cpe_direct_requests)
            rec.max_cpe_direct_requests = direct;
        rec.active_cpes += moved > 0;
    }
    pthread_mutex_unlock(&E.mu);

    pthread_mutex_lock(&S.mu);
    if (S.n == S.cap) {
        size_t cap = S.cap ? 2 * S.cap : 64;
        launch_t *v = (launch_t *)realloc(S.v, cap * sizeof *v);
        if (!v)
            emu_fail(NULL, "athread_join", "out of host memory");
        S.v = v;
        S.cap = cap;
    }
    S.v[S.n++] = rec;
    counters_merge(&S.totals, &rec.c);
    S.dirty = 1;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

int athread_halt(void)
{
    const char *path = getenv("SWMLIR_EMU_STATS");
    int i;

    athread_join(); /* a forgotten join is harmless here */
    pthread_mutex_lock(&E.mu);
    if (!E.initialized) {
        pthread_mutex_unlock(&E.mu);
        return 0;
    }
    E.stop = 1;
    for (i = 0; i < NCPE; i++)
        sem_post(&E.cpes[i].go);
    pthread_mutex_unlock(&E.mu);
    for (i = 0; i < NCPE; i++) {
        pthread_join(E.cpes[i].thread, NULL);
        sem_destroy(&E.cpes[i].go);
    }
    pthread_mutex_lock(&E.mu);
    munmap(E.stacks, E.stacks_len);
    munmap(E.heaps, E.heaps_len);
    memset(&swmlir_emu_ldm_shadow, 0, sizeof swmlir_emu_ldm_shadow);
    munmap(shadow_tags, shadow_bytes);
    shadow_tags = NULL;
    for (i = 0; i < NCPE; i++)
        E.cpes[i].narrays = 0;
    E.stacks = E.heaps = NULL;
    E.stacks_len = E.heaps_len = 0;
    for (i = 0; i < NCPE; i++)
        E.cpes[i].tls_lo = NULL;
    E.initialized = 0;
    pthread_mutex_unlock(&E.mu);
    if (path && *path && swmlir_emu_write_stats(path) != 0)
        emu_fail(NULL, "athread_halt", "cannot write the counters to SWMLIR_EMU_STATS='%s'", path);
    return 0;
}

int swmlir_emu_init_cgs(int cgs)
{
    if (cgs <= 0) {
        const char *v = getenv("SWMLIR_EMU_CGS");
        cgs = v && *v ? atoi(v) : 1;
    }
    if (cgs < 1 || cgs > 64)
        emu_fail(NULL, "athread_init_cgs", "%d core groups (SWMLIR_CGS / SWMLIR_EMU_CGS): expected 1..64", cgs);
    athread_init();
    pthread_mutex_lock(&E.mu);
    E.ncgs = cgs;
    pthread_mutex_unlock(&E.mu);
    return 0;
}

/* fn(arg) on every CPE of every core group: CG 0's 64 CPEs, then CG 1's, ... (kernels of one launch on
 * different CGs do not wait for each other: they write disjoint outputs). The records of the CGs become one
 * launch record: totals over the CGs, the busiest CPE of all, and each CG's own record (its DMA counters: the
 * performance model charges each CG's DMA to that CG's memory controller). */
int swmlir_emu_spawn_cgs(void (*fn)(void *), void *arg, size_t arg_bytes, const char *name)
{
    int g, n;
    size_t first;
    launch_t rec;

    if (!E.ncgs)
        emu_fail(NULL, "athread_spawn_cgs", "kernel '%s' spawned on the core groups before athread_init_cgs",
                 name ? name : "?");
    athread_join(); /* a kernel still running on this CG is waited for, as before any spawn */
    n = E.ncgs;
    pthread_mutex_lock(&S.mu);
    first = S.n;
    pthread_mutex_unlock(&S.mu);
    for (g = 0; g < n; g++) {
        E.cg = g; /* read by the CPEs after the spawn's semaphore posts */
        swmlir_emu_spawn(fn, arg, arg_bytes, name);
        athread_join();
    }
    E.cg = 0;
    pthread_mutex_lock(&S.mu);
    memset(&rec, 0, sizeof rec);
    rec.kernel = S.v[first].kernel;
    rec.launch = S.v[first].launch;
    rec.ncgs = n;
    rec.per_cg = (launch_t *)xcalloc((size_t)n, sizeof *rec.per_cg);
    for (g = 0; g < n; g++) {
        launch_t *r = &S.v[first + (size_t)g];
        counters_merge(&rec.c, &r->c);
        if (r->max_cpe_dma_bytes > rec.max_cpe_dma_bytes)
            rec.max_cpe_dma_bytes = r->max_cpe_dma_bytes;
        if (r->max_cpe_direct_requests > rec.max_cpe_direct_requests)
            rec.max_cpe_direct_requests = r->max_cpe_direct_requests;
        rec.active_cpes += r->active_cpes;
        if (g)
            free(r->kernel);
        rec.per_cg[g] = *r;
        rec.per_cg[g].kernel = NULL;
    }
    S.v[first] = rec;
    S.n = first + 1;
    S.next_launch = rec.launch + 1;
    pthread_mutex_unlock(&S.mu);
    return 0;
}

/* The CGs' kernels have all finished when athread_spawn_cgs returns. */
int athread_join_cgs(void)
{
    return athread_join();
}

int athread_set_num_threads(int n)
{
    if (n < 1 || n > NCPE)
        return -1;
    pthread_mutex_lock(&E.mu);
    E.next_nthreads = n;
    pthread_mutex_unlock(&E.mu);
    return 0;
}

int athread_get_num_threads(void)
{
    return E.next_nthreads;
}

int athread_get_max_threads(void)
{
    return NCPE;
}

size_t swmlir_emu_ldm_bytes(void)
{
    return E.initialized ? E.ldm_bytes : env_ldm_bytes();
}

/* ------------------------------------------------------------------------------------------------------------
 * Counters out
 * ---------------------------------------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* A histogram as a JSON object {"size": count, ...}, sizes ascending. */
static void write_hist(FILE *f, const hist_t *h)
{
    uint64_t *keys = (uint64_t *)xcalloc(h->n ? h->n : 1, sizeof *keys);
    size_t i, k = 0;

    for (i = 0; i < h->cap; i++)
        if (h->keys[i])
            keys[k++] = h->keys[i];
    qsort(keys, k, sizeof *keys, cmp_u64);
    fputc('{', f);
    for (i = 0; i < k; i++) {
        size_t j;
        for (j = 0; h->keys[j] != keys[i]; j++)
            ;
        fprintf(f, "%s\"%llu\": %llu", i ? ", " : "", (unsigned long long)keys[i], (unsigned long long)h->counts[j]);
    }
    fputc('}', f);
    free(keys);
}

static void write_counters(FILE *f, const counters_t *c)
{
    fprintf(f,
            "\"get_requests\": %llu, \"put_requests\": %llu, \"get_bytes\": %llu, \"put_bytes\": %llu, "
            "\"block_sizes\": ",
            (unsigned long long)c->get_requests, (unsigned long long)c->put_requests,
            (unsigned long long)c->get_bytes, (unsigned long long)c->put_bytes);
    write_hist(f, &c->blocks);
    fprintf(f, ", \"put_block_sizes\": ");
    write_hist(f, &c->put_blocks);
    fprintf(f, ", \"ldm_peak_bytes\": %llu, \"syncs\": %llu, \"mesh_bytes\": %llu",
            (unsigned long long)c->ldm_peak, (unsigned long long)c->syncs, (unsigned long long)c->mesh_bytes);
    fprintf(f, ", \"gld_requests\": %llu, \"gld_bytes\": %llu, \"gst_requests\": %llu, \"gst_bytes\": %llu",
            (unsigned long long)c->gld_requests, (unsigned long long)c->gld_bytes,
            (unsigned long long)c->gst_requests, (unsigned long long)c->gst_bytes);
}

static void write_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

int swmlir_emu_write_stats(const char *path)
{
    FILE *f = fopen(path, "w");
    size_t i;
    int rc;

    if (!f)
        return -1;
    pthread_mutex_lock(&S.mu);
    fprintf(f, "{\n\"ldm_bytes\": %zu,\n\"direct_access\": \"%s\",\n", swmlir_emu_ldm_bytes(),
            direct_access_mode());
    if (guard_off_reason()) {
        fprintf(f, "\"direct_access_note\": ");
        write_json_string(f, guard_off_reason());
        fprintf(f, ",\n");
    }
    fprintf(f, "\"launches\": [");
    for (i = 0; i < S.n; i++) {
        fprintf(f, "%s\n  {\"kernel\": ", i ? "," : "");
        write_json_string(f, S.v[i].kernel);
        fprintf(f, ", \"launch\": %ld, \"max_cpe_dma_bytes\": %llu, \"max_cpe_direct_requests\": %llu, "
                "\"active_cpes\": %d, ", S.v[i].launch, (unsigned long long)S.v[i].max_cpe_dma_bytes,
                (unsigned long long)S.v[i].max_cpe_direct_requests, S.v[i].active_cpes);
        write_counters(f, &S.v[i].c);
        if (S.v[i].ncgs) {
            int g;
            fprintf(f, ", \"cgs\": [");
            for (g = 0; g < S.v[i].ncgs; g++) {
                const launch_t *r = &S.v[i].per_cg[g];
                fprintf(f, "%s{\"cg\": %d, \"max_cpe_dma_bytes\": %llu, \"max_cpe_direct_requests\": %llu, "
                        "\"active_cpes\": %d, ", g ? ", " : "", g, (unsigned long long)r->max_cpe_dma_bytes,
                        (unsigned long long)r->max_cpe_direct_requests, r->active_cpes);
                write_counters(f, &r->c);
                fputc('}', f);
            }
            fputc(']', f);
        }
        fputc('}', f);
    }
    fprintf(f, "\n],\n\"totals\": {\"launches\": %zu, ", S.n);
    write_counters(f, &S.totals);
    fprintf(f, "}\n}\n");
    S.dirty = 0;
    pthread_mutex_unlock(&S.mu);
    rc = ferror(f);
    return (fclose(f) != 0 || rc) ? -1 : 0;
}

void swmlir_emu_reset_stats(void)
{
    size_t i;

    pthread_mutex_lock(&S.mu);
    for (i = 0; i < S.n; i++) {
        int g;
        free(S.v[i].kernel);
        hist_free(&S.v[i].c.blocks);
        hist_free(&S.v[i].c.put_blocks);
        for (g = 0; g < S.v[i].ncgs; g++) {
            hist_free(&S.v[i].per_cg[g].c.blocks);
            hist_free(&S.v[i].per_cg[g].c.put_blocks);
        }
        free(S.v[i].per_cg);
    }
    S.n = 0;
    counters_clear(&S.totals);
    S.next_launch = 0;
    S.dirty = 0;
    pthread_mutex_unlock(&S.mu);
}

/* A program that ends without athread_halt still gets its counters written. */
static void write_stats_at_exit(void)
{
    const char *path = getenv("SWMLIR_EMU_STATS");
    if (path && *path && S.dirty)
        swmlir_emu_write_stats(path);
}
