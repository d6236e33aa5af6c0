/*
 * DESIGN
 * ------
 * Two threads and a fixed set of batches that travel between them:
 *
 *        reader thread                               caller's thread
 *   take a FREE batch (wait if none) ──fill──▶ READY queue ──▶ row_pipeline_next hands out
 *        ▲                                                     its rows one by one, then
 *        └──────────────── FREE list ◀──────────────────────── gives the batch back
 *
 * The reader owns a batch from taking it until it is queued; the caller owns it from taking
 * it off the queue until it moves on to the next one. Only the two lists, the stop flag and
 * the count of queued batches are shared, all under one mutex with one condition variable
 * per direction, and the lock is taken once per batch, not once per row. The queue being
 * bounded (`batches` batches) is the backpressure: a reader faster than its consumer waits
 * for a free batch, so memory stays flat however large the file is.
 *
 * A source's row is valid only until its next call, so the reader copies each one into the
 * batch: the row into `rows`, its cells into `cells`, their text into one byte arena. The
 * arena may move while it grows, so while filling, a cell records where its text starts
 * (text_off) and a row where its cells start (first_cell); the pointers are set once, just
 * before the batch is queued. A batch is queued when it holds batch_rows rows or when its
 * cells and their text reach batch_bytes, whichever comes first, so a wide sheet gets
 * shorter batches rather than bigger ones. Every buffer is kept from batch to batch, so a
 * steady state allocates nothing; one that a giant row blew up is released again once read.
 *
 * The end of the rows travels in-band: the reader marks the last batch it queues with the
 * source's final code (0, or an error and its sentence) and exits; the caller returns that
 * code after the batch's rows, so rows read before a failure are never lost or reordered.
 * Stopping early sets `stop` and wakes the reader; it notices between two rows or while
 * waiting for a batch, and the caller joins it before anything is freed.
 */
#include "import/row_pipeline.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* A batch whose buffers grew past this many times their usual size is trimmed once read. */
#define TRIM_FACTOR 4

struct batch {
    struct batch *next;     /* in the free list or the ready queue */
    struct sheet_row *rows; /* batch_rows of them */
    size_t *first_cell;     /* per row, while filling: its first cell's index */
    size_t nrows;
    struct sheet_cell *cells;
    size_t *text_off; /* per cell, while filling: its text's offset in `text`, or SIZE_MAX */
    size_t ncells, cells_cap;
    struct buf text;
    size_t pos; /* the next row the caller gets */
    bool last;  /* the reader's final batch: after its rows, return `rc` */
    int rc;
    struct sd_error err;
};

struct row_pipeline {
    row_source_fn source;
    void *source_ctx;
    struct row_pipeline_options opts;
    struct batch *all; /* opts.batches of them */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t lock;
    pthread_cond_t have_free;  /* the reader waits on it */
    pthread_cond_t have_ready; /* the caller waits on it */
    struct batch *free_list;
    struct batch *ready_head, *ready_tail;
    atomic_bool stop;
    struct batch *current; /* the caller's batch, or NULL */
    bool done;             /* the caller has reached the final code */
    int final_rc;
    struct sd_error final_err;
};

static void batch_free(struct batch *b)
{
    free(b->rows);
    free(b->first_cell);
    free(b->cells);
    free(b->text_off);
    buf_free(&b->text);
}

/* Empties a batch for refilling, releasing buffers that one unusually large row grew. */
static void batch_reset(struct batch *b, const struct row_pipeline_options *opts)
{
    b->nrows = b->ncells = b->pos = 0;
    b->last = false;
    b->rc = 0;
    sd_error_clear(&b->err);
    if (b->text.cap > TRIM_FACTOR * opts->batch_bytes)
        buf_free(&b->text);
    else
        buf_clear(&b->text);
    if (b->cells_cap * sizeof *b->cells > TRIM_FACTOR * opts->batch_bytes) {
        free(b->cells);
        free(b->text_off);
        b->cells = NULL;
        b->text_off = NULL;
        b->cells_cap = 0;
    }
}

static int batch_reserve_cells(struct batch *b, size_t n)
{
    if (n <= b->cells_cap - b->ncells)
        return 0;
    size_t cap = b->cells_cap ? b->cells_cap : 64;
    while (cap - b->ncells < n) {
        if (cap > SIZE_MAX / 2 / sizeof *b->cells)
            return SD_ENOMEM;
        cap *= 2;
    }
    struct sheet_cell *cells = realloc(b->cells, cap * sizeof *cells);
    if (!cells)
        return SD_ENOMEM;
    b->cells = cells;
    size_t *off = realloc(b->text_off, cap * sizeof *off);
    if (!off)
        return SD_ENOMEM; /* cells grew, cells_cap did not: still consistent */
    b->text_off = off;
    b->cells_cap = cap;
    return 0;
}

/* Copies one source row into the batch; 0 or SD_ENOMEM (the batch is then unchanged). The
 * row's text is measured first so the arena grows at most once per row. */
static int batch_add_row(struct batch *b, const struct sheet_row *row)
{
    size_t need = 0;
    for (size_t i = 0; i < row->ncells; i++)
        if (row->cells[i].text) {
            if (row->cells[i].text_len >= SIZE_MAX / 2 - need)
                return SD_ENOMEM;
            need += row->cells[i].text_len + 1; /* each copy is NUL-terminated, like the source */
        }
    if (batch_reserve_cells(b, row->ncells) < 0 || buf_grow(&b->text, need) < 0)
        return SD_ENOMEM;
    for (size_t i = 0; i < row->ncells; i++) {
        const struct sheet_cell *src = &row->cells[i];
        size_t c = b->ncells + i;
        b->cells[c] = *src;
        b->cells[c].text = NULL;
        b->text_off[c] = SIZE_MAX;
        if (!src->text)
            continue;
        b->text_off[c] = b->text.len;
        memcpy(b->text.data + b->text.len, src->text, src->text_len);
        b->text.len += src->text_len;
        b->text.data[b->text.len++] = '\0';
    }
    b->text.data[b->text.len] = '\0'; /* struct buf's own invariant */
    b->rows[b->nrows].number = row->number;
    b->rows[b->nrows].ncells = row->ncells;
    b->rows[b->nrows].cells = NULL;
    b->first_cell[b->nrows] = b->ncells;
    b->nrows++;
    b->ncells += row->ncells;
    return 0;
}

/* Turns the offsets recorded while filling into pointers, now that nothing moves. */
static void batch_seal(struct batch *b)
{
    for (size_t r = 0; r < b->nrows; r++)
        b->rows[r].cells = b->cells + b->first_cell[r];
    for (size_t c = 0; c < b->ncells; c++)
        if (b->text_off[c] != SIZE_MAX)
            b->cells[c].text = b->text.data + b->text_off[c];
}

/* The reader's wait for a free batch; NULL once the pipeline is stopping. */
static struct batch *take_free(struct row_pipeline *p)
{
    pthread_mutex_lock(&p->lock);
    while (!p->free_list && !atomic_load(&p->stop))
        pthread_cond_wait(&p->have_free, &p->lock);
    struct batch *b = NULL;
    if (!atomic_load(&p->stop)) {
        b = p->free_list;
        p->free_list = b->next;
    }
    pthread_mutex_unlock(&p->lock);
    return b;
}

static void queue_ready(struct row_pipeline *p, struct batch *b)
{
    b->next = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->ready_tail)
        p->ready_tail->next = b;
    else
        p->ready_head = b;
    p->ready_tail = b;
    pthread_cond_signal(&p->have_ready);
    pthread_mutex_unlock(&p->lock);
}

/* Fills one batch from the source; returns whether the source has more to give. */
static bool fill_batch(struct row_pipeline *p, struct batch *b)
{
    while (b->nrows < p->opts.batch_rows &&
           (b->nrows == 0 || b->text.len + b->ncells * sizeof *b->cells < p->opts.batch_bytes)) {
        if (atomic_load_explicit(&p->stop, memory_order_relaxed))
            return false; /* nobody will read this batch; stop frees it */
        const struct sheet_row *row;
        int rc = p->source(p->source_ctx, &row, &b->err);
        if (rc == 1 && batch_add_row(b, row) < 0)
            rc = sd_error_nomem(&b->err);
        if (rc != 1) {
            b->last = true;
            b->rc = rc < 0 ? rc : 0;
            return false;
        }
    }
    return true;
}

static void *reader_main(void *arg)
{
    struct row_pipeline *p = arg;
    for (;;) {
        struct batch *b = take_free(p);
        if (!b)
            break;
        batch_reset(b, &p->opts);
        bool more = fill_batch(p, b);
        if (!more && !b->last)
            break; /* stopped part-way: nobody reads this batch, and stop frees every batch */
        batch_seal(b);
        queue_ready(p, b);
        if (!more)
            break;
    }
    return NULL;
}

static int options_check(const struct row_pipeline_options *o, struct sd_error *err)
{
    if (o->version != ROW_PIPELINE_OPTIONS_VERSION)
        return sd_error_set(err, SD_EUSAGE,
                            "the row pipeline options have version %u, not %u; "
                            "initialise them with ROW_PIPELINE_OPTIONS_INIT",
                            o->version, ROW_PIPELINE_OPTIONS_VERSION);
    if (o->batch_rows < 1 || o->batches < 2 || o->batches > 1024 ||
        o->batch_rows > SIZE_MAX / 2 / sizeof(struct sheet_row))
        return sd_error_set(err, SD_EUSAGE,
                            "a row pipeline needs at least 1 row per batch and "
                            "between 2 and 1024 batches (got %zu and %zu)",
                            o->batch_rows, o->batches);
    return 0;
}

int row_pipeline_start(struct row_pipeline **out, row_source_fn source, void *source_ctx,
                       const struct row_pipeline_options *opts, struct sd_error *err)
{
    static const struct row_pipeline_options defaults = ROW_PIPELINE_OPTIONS_INIT;
    *out = NULL;
    if (!opts)
        opts = &defaults;
    int rc = options_check(opts, err);
    if (rc < 0)
        return rc;
    struct row_pipeline *p = calloc(1, sizeof *p);
    if (!p)
        return sd_error_nomem(err);
    p->source = source;
    p->source_ctx = source_ctx;
    p->opts = *opts;
    atomic_init(&p->stop, false);
    if (pthread_mutex_init(&p->lock, NULL) != 0) {
        free(p);
        return sd_error_set(err, SD_ERROR, "could not create a lock for reading rows");
    }
    pthread_cond_init(&p->have_free, NULL);
    pthread_cond_init(&p->have_ready, NULL);
    p->all = calloc(opts->batches, sizeof *p->all);
    if (!p->all)
        goto nomem;
    for (size_t i = 0; i < opts->batches; i++) {
        struct batch *b = &p->all[i];
        b->rows = calloc(opts->batch_rows, sizeof *b->rows);
        b->first_cell = calloc(opts->batch_rows, sizeof *b->first_cell);
        if (!b->rows || !b->first_cell)
            goto nomem;
        b->next = p->free_list;
        p->free_list = b;
    }
    if ((rc = pthread_create(&p->thread, NULL, reader_main, p)) != 0) {
        row_pipeline_stop(p);
        return sd_error_set(err, SD_ERROR,
                            "could not start a thread to read the file (%s); the system is out "
                            "of threads or memory",
                            strerror(rc));
    }
    p->thread_started = true;
    *out = p;
    return 0;
nomem:
    row_pipeline_stop(p);
    return sd_error_nomem(err);
}

/* Gives the caller's finished batch back to the reader and waits for the next full one. */
static struct batch *next_batch(struct row_pipeline *p, struct batch *done)
{
    pthread_mutex_lock(&p->lock);
    if (done) {
        done->next = p->free_list;
        p->free_list = done;
        pthread_cond_signal(&p->have_free);
    }
    /* The reader always queues a final batch before it exits on its own, so this ends. */
    while (!p->ready_head)
        pthread_cond_wait(&p->have_ready, &p->lock);
    struct batch *b = p->ready_head;
    p->ready_head = b->next;
    if (!p->ready_head)
        p->ready_tail = NULL;
    pthread_mutex_unlock(&p->lock);
    return b;
}

int row_pipeline_next(struct row_pipeline *p, const struct sheet_row **out, struct sd_error *err)
{
    *out = NULL;
    for (;;) {
        if (p->done) {
            if (p->final_rc < 0 && err)
                *err = p->final_err;
            return p->final_rc;
        }
        struct batch *b = p->current;
        if (b && b->pos < b->nrows) {
            *out = &b->rows[b->pos++];
            return 1;
        }
        if (b && b->last) {
            p->done = true;
            p->final_rc = b->rc;
            p->final_err = b->err;
            continue;
        }
        p->current = next_batch(p, b);
    }
}

void row_pipeline_stop(struct row_pipeline *p)
{
    if (!p)
        return;
    if (p->thread_started) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->stop, true);
        pthread_cond_broadcast(&p->have_free);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL);
    }
    if (p->all)
        for (size_t i = 0; i < p->opts.batches; i++)
            batch_free(&p->all[i]);
    free(p->all);
    pthread_cond_destroy(&p->have_free);
    pthread_cond_destroy(&p->have_ready);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
