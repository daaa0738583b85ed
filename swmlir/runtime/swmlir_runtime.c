/*
 * swmlir_runtime.c -- host-side support for emitted code (see swmlir_runtime.h).
 * Plain C99 with stdio/stdlib only: the same file is compiled for the Sunway host with sw5cc.
 */
#include "swmlir_runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SWMLIR_EMULATOR
#include "emulator/athread.h" /* the emulator's; the Sunway build never includes it */
#endif

#define SWMLIR_ALIGN 128

/* Layout of a block: [malloc'd start ... padding | size_t bytes | void *raw][aligned data ...].
 * The header just below the aligned pointer lets swmlir_free find the malloc'd start and the size. */
typedef struct {
    size_t bytes;
    void *raw;
} swmlir_block_header;

void *swmlir_alloc(size_t bytes)
{
    size_t total;
    char *raw, *data;
    swmlir_block_header *h;

#ifdef SWMLIR_EMULATOR
    {
        int handled = 0;
        void *p = swmlir_emu_alloc(bytes, &handled); /* page-aligned, zero-filled, registered */
        if (handled)
            return p;
    }
#endif
    if (bytes > (size_t)-1 - SWMLIR_ALIGN - sizeof(swmlir_block_header))
        return NULL;
    total = bytes + SWMLIR_ALIGN + sizeof(swmlir_block_header);
    raw = (char *)calloc(1, total);
    if (raw == NULL)
        return NULL;
    /* First 128-byte boundary that leaves room for the header below it. */
    data = raw + sizeof(swmlir_block_header);
    data += (SWMLIR_ALIGN - (size_t)data % SWMLIR_ALIGN) % SWMLIR_ALIGN;
    h = (swmlir_block_header *)data - 1;
    h->bytes = bytes;
    h->raw = raw;
#ifdef SWMLIR_EMULATOR
    swmlir_emu_register_range(data, bytes);
#endif
    return data;
}

void swmlir_free(void *p)
{
    swmlir_block_header *h;

    if (p == NULL)
        return;
#ifdef SWMLIR_EMULATOR
    if (swmlir_emu_free(p))
        return;
#endif
    h = (swmlir_block_header *)p - 1;
#ifdef SWMLIR_EMULATOR
    swmlir_emu_unregister_range(p);
#endif
    free(h->raw);
}

void *swmlir_read_file(const char *path, size_t bytes, const swmlir_file_desc *d, void *(*alloc)(size_t),
                       void (*release)(void *))
{
    FILE *f = fopen(path, "rb");
    long size;
    char *buf;
    size_t got = 0;

    if (f == NULL) {
        fprintf(stderr, "%s: error: cannot open %s '%s'\n", d->program, d->what, path);
        return NULL;
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: error: cannot read the size of %s '%s'\n", d->program, d->what, path);
        fclose(f);
        return NULL;
    }
    if ((unsigned long)size != (unsigned long)bytes) {
        fprintf(stderr, "%s: error: %s '%s' has %lu bytes%s\n", d->program, d->what, path, (unsigned long)size,
                d->expects);
        fclose(f);
        return NULL;
    }
    buf = (char *)alloc(bytes ? bytes : 1);
    if (buf == NULL) {
        if (d->memory != NULL)
            fprintf(stderr, "%s: error: out of memory for %lu bytes of %s\n", d->program, (unsigned long)bytes,
                    d->memory);
        else
            fprintf(stderr, "%s: error: cannot read %lu bytes of %s '%s'\n", d->program, (unsigned long)bytes,
                    d->what, path);
        fclose(f);
        return NULL;
    }
    while (got < bytes) {
        size_t n = fread(buf + got, 1, bytes - got, f);
        if (n == 0)
            break;
        got += n;
    }
    fclose(f);
    if (got != bytes) {
        if (d->memory != NULL)
            fprintf(stderr, "%s: error: read %lu of %lu bytes from %s '%s'\n", d->program, (unsigned long)got,
                    (unsigned long)bytes, d->what, path);
        else
            fprintf(stderr, "%s: error: cannot read %lu bytes of %s '%s'\n", d->program, (unsigned long)bytes,
                    d->what, path);
        release(buf);
        return NULL;
    }
    return buf;
}

int swmlir_write_file(const char *path, const void *data, size_t bytes, const swmlir_file_desc *d)
{
    FILE *f = fopen(path, "wb");
    int ok = f != NULL && fwrite(data, 1, bytes, f) == bytes;

    if (f != NULL && fclose(f) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "%s: error: cannot write %s '%s'\n", d->program, d->what, path);
    return ok;
}

void *swmlir_load_weights(const char *path, size_t expected_bytes)
{
    char expects[96];
    swmlir_file_desc d = {"swmlir", "weights file", NULL, "weights"};
    void *buf;

    if (expected_bytes == 0)
        return swmlir_alloc(1); /* a model without weights: any valid, freeable pointer */
    if (path == NULL) {
        fprintf(stderr, "swmlir: error: the model needs a weights file of %lu bytes, none was given\n",
                (unsigned long)expected_bytes);
        return NULL;
    }
    sprintf(expects, ", the model expects %lu (was it written for another model?)", (unsigned long)expected_bytes);
    d.expects = expects;
    if ((buf = swmlir_read_file(path, expected_bytes, &d, swmlir_alloc, swmlir_free)) != NULL)
        swmlir_name_buffer(buf, "the weights");
    return buf;
}

void swmlir_register_buffer(const void *p, size_t bytes)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_register_range(p, bytes);
#else
    (void)p;
    (void)bytes;
#endif
}

void swmlir_unregister_buffer(const void *p)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_unregister_range(p);
#else
    (void)p;
#endif
}

void swmlir_name_buffer(const void *p, const char *name)
{
#ifdef SWMLIR_EMULATOR
    swmlir_emu_name_range(p, name);
#else
    (void)p;
    (void)name;
#endif
}
