/*
 * driver_mpi.c -- main() of the MPI variant of a model compiled by swmlir: data parallel over the batch.
 *
 *   mpirun -n N ./model_mpi WEIGHTS.bin IN0.bin ... OUT0.bin ... [--repeat R]        (laptop, Open MPI)
 *   bsub -n N -cgsp 64 ... ./model_mpi WEIGHTS.bin IN0.bin ... OUT0.bin ...          (Sunway: a rank per CG)
 *
 * The model (model.h) is compiled for one rank's slice of the batch: swmlir_input_bytes / swmlir_output_bytes are
 * the bytes of one slice. Every input and output is split along its first axis (the batch), so the slice of rank
 * k is the k-th contiguous block of the file. Rank 0 reads each input file, which holds the whole batch (N times
 * the slice), and scatters the slices (MPI_Scatter); every rank loads the weights itself (swmlir_init: a shared
 * file system), runs the model on its slice, and the output slices are gathered on rank 0 (MPI_Gather), which
 * writes the output files. The batch of the files is N times the compiled slice, N being the size of
 * MPI_COMM_WORLD. With --repeat R the ranks run R times between two barriers and rank 0 prints the mean wall time
 * per run as "swmlir-driver: time_ms=<x>" (the slowest rank's, scatter and gather excluded).
 * Exit status as driver.c: 0 ok, 1 model failure, 2 bad arguments or files (3: an emulator error, which stops
 * that rank's process; mpirun then stops the others).
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "swmlir_runtime.h"

#define NIN SWMLIR_NUM_INPUTS
#define NOUT SWMLIR_NUM_OUTPUTS

static int rank, nranks;

/* Rank 0 only: the whole batch of input `index`, exactly `bytes` bytes (N slices), or NULL after a message. */
static char *read_batch(int index, const char *path, size_t bytes, size_t slice)
{
    char what[32], expects[160];
    swmlir_file_desc d = {"swmlir-driver", NULL, NULL, NULL};

    sprintf(what, "input %d", index);
    sprintf(expects, "; %d ranks of a model compiled for a slice of %lu bytes take %lu (the batch is split over the "
            "ranks)", nranks, (unsigned long)slice, (unsigned long)bytes);
    d.what = what;
    d.expects = expects;
    return (char *)swmlir_read_file(path, bytes, &d, malloc, free);
}

static int write_output(int index, const char *path, const void *data, size_t bytes)
{
    char what[32];
    swmlir_file_desc d = {"swmlir-driver", NULL, NULL, NULL};

    sprintf(what, "output %d", index);
    d.what = what;
    return swmlir_write_file(path, data, bytes, &d);
}

/* A registered, 128-byte aligned buffer for one slice (what the kernels' DMA reads or writes). */
static void *slice_buffer(const char *what, int index, size_t bytes)
{
    void *p = swmlir_alloc(bytes ? bytes : 1);
    if (p == NULL) {
        fprintf(stderr, "swmlir-driver: error: rank %d: out of memory for %s %d\n", rank, what, index);
    } else {
        char name[48];
        sprintf(name, "%s %d (rank %d)", what, index, rank);
        swmlir_name_buffer(p, name);
    }
    return p;
}

/* The same status on every rank: the worst of all (0 ok). */
static int agree(int status)
{
    int worst = status;
    MPI_Allreduce(&status, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    return worst;
}

static int finish(int status)
{
    MPI_Finalize();
    return status;
}

int main(int argc, char **argv)
{
    const char *files[1 + NIN + NOUT];
    void *inputs[NIN + 1], *outputs[NOUT + 1];
    char *batch[NIN + NOUT + 1];
    int nfiles = 0, repeat = 1, timed = 0, status = 0, i;
    double t0, t1;

    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &nranks);

    for (i = 1; i < argc && status == 0; i++) {
        if (strcmp(argv[i], "--repeat") == 0) {
            char *end;
            long n = i + 1 < argc ? strtol(argv[i + 1], &end, 10) : 0;
            if (i + 1 >= argc || *end || n < 1 || n > 1000000000L) {
                if (rank == 0)
                    fprintf(stderr, "swmlir-driver: error: --repeat needs a positive count\n");
                status = 2;
            }
            repeat = (int)n;
            timed = 1;
            i++;
        } else if (nfiles < 1 + NIN + NOUT) {
            files[nfiles++] = argv[i];
        } else {
            if (rank == 0)
                fprintf(stderr, "swmlir-driver: error: too many arguments (the model has %d inputs, %d outputs)\n",
                        NIN, NOUT);
            status = 2;
        }
    }
    if (status == 0 && nfiles != 1 + NIN + NOUT) {
        if (rank == 0)
            fprintf(stderr, "swmlir-driver: error: expected %d file arguments (WEIGHTS.bin, %d inputs, %d outputs), "
                            "got %d\n", 1 + NIN + NOUT, NIN, NOUT, nfiles);
        status = 2;
    }
    /* MPI counts are ints: one slice of at most INT_MAX bytes */
    for (i = 0; i < NIN + NOUT && status == 0; i++) {
        int64_t b = i < NIN ? swmlir_input_bytes[i] : swmlir_output_bytes[i - NIN];
        if (b > INT_MAX) {
            if (rank == 0)
                fprintf(stderr, "swmlir-driver: error: a slice of %s %d has %lld bytes, over MPI's int count\n",
                        i < NIN ? "input" : "output", i < NIN ? i : i - NIN, (long long)b);
            status = 2;
        }
    }
    if (status != 0)
        return finish(status);

    /* rank 0 reads the whole batch of every input */
    for (i = 0; i < NIN + NOUT + 1; i++)
        batch[i] = NULL;
    if (rank == 0) {
        for (i = 0; i < NIN && status == 0; i++) {
            size_t slice = (size_t)swmlir_input_bytes[i];
            if ((batch[i] = read_batch(i, files[1 + i], slice * (size_t)nranks, slice)) == NULL)
                status = 2;
        }
        for (i = 0; i < NOUT && status == 0; i++)
            if ((batch[NIN + i] = (char *)malloc((size_t)swmlir_output_bytes[i] * (size_t)nranks + 1)) == NULL) {
                fprintf(stderr, "swmlir-driver: error: out of memory for output %d\n", i);
                status = 2;
            }
    }
    for (i = 0; i < NIN && status == 0; i++)
        if ((inputs[i] = slice_buffer("input", i, (size_t)swmlir_input_bytes[i])) == NULL)
            status = 2;
    for (i = 0; i < NOUT && status == 0; i++)
        if ((outputs[i] = slice_buffer("output", i, (size_t)swmlir_output_bytes[i])) == NULL)
            status = 2;
    if ((status = agree(status)) != 0)
        return finish(status);
    inputs[NIN] = outputs[NOUT] = NULL;

    /* the k-th slice of each input to rank k */
    for (i = 0; i < NIN; i++)
        MPI_Scatter(batch[i], (int)swmlir_input_bytes[i], MPI_BYTE, inputs[i], (int)swmlir_input_bytes[i], MPI_BYTE,
                    0, MPI_COMM_WORLD);

    if (swmlir_init(files[0]) != 0) {
        fprintf(stderr, "swmlir-driver: error: rank %d: model initialisation failed (weights '%s')\n", rank,
                files[0]);
        status = 1;
    }
    if ((status = agree(status)) != 0)
        return finish(status);

    MPI_Barrier(MPI_COMM_WORLD);
    t0 = MPI_Wtime();
    for (i = 0; i < repeat; i++)
        swmlir_run_packed(inputs, outputs);
    MPI_Barrier(MPI_COMM_WORLD);
    t1 = MPI_Wtime();
    if (timed && rank == 0)
        fprintf(stderr, "swmlir-driver: time_ms=%.6f ranks=%d\n", (t1 - t0) * 1e3 / repeat, nranks);

    /* the output slices back to rank 0, in rank order */
    for (i = 0; i < NOUT; i++)
        MPI_Gather(outputs[i], (int)swmlir_output_bytes[i], MPI_BYTE, batch[NIN + i], (int)swmlir_output_bytes[i],
                   MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rank == 0)
        for (i = 0; i < NOUT && status == 0; i++)
            if (!write_output(i, files[1 + NIN + i], batch[NIN + i], (size_t)swmlir_output_bytes[i] * (size_t)nranks))
                status = 2;

    swmlir_finalize();
    for (i = 0; i < NIN; i++)
        swmlir_free(inputs[i]);
    for (i = 0; i < NOUT; i++)
        swmlir_free(outputs[i]);
    for (i = 0; i < NIN + NOUT; i++)
        free(batch[i]);
    return finish(agree(status));
}
