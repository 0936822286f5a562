/* mpire-map-job.c: one call of the map family, seen from the caller
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <unistd.h>

#include "mpire-async-result-private.h"
#include "mpire-chunker-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-map-job-private.h"
#include "mpire-map-options-private.h"
#include "mpire-progress-bar-private.h"
#include "mpire-protocol-private.h"
#include "mpire-scheduler-private.h"

/* A job lives in the thread-default main context of the thread that
 * started the call (its "context"): the input is pulled, results are
 * ordered and handed out, and the caller is told, all there. The pool's
 * thread talks to it by posting events to its inbox (under the pool's
 * lock), which a source in the job's context drains.
 *
 * Back-pressure: at most max_active tasks are taken from the input and
 * not yet consumed. A collecting call (map) consumes a chunk when its
 * results arrive; an iterating call (imap) consumes a task when the
 * caller takes its result. */

/* States (`state`):
 *
 *   JOB_FEEDING ──the input is exhausted──▶ JOB_FED
 *   JOB_FED ──apply: a new task is added──▶ JOB_FEEDING
 *   JOB_FEEDING, JOB_FED ──finish(): every result is in, or the call
 *     failed──▶ JOB_STOPPING, which waits for the workers stopped at the
 *     call's end (the scheduler posts STOPPED once they are gone)
 *   JOB_STOPPING ──STOPPED, or nothing to wait for──▶ JOB_FINISHED
 *   JOB_FINISHED ──the caller was told: the last progress, then
 *     `finished` (imap: once its last result was taken)──▶ JOB_TOLD
 *
 * Only the messages about the workers' end reach a job past
 * JOB_FEEDING/JOB_FED.
 *
 * Locking: `lock` guards what the scheduler's thread touches: the inbox,
 * the state, and a pool-fed job's input. The scheduler calls post() with
 * its own lock held, so where both are taken, the scheduler's comes
 * first. */
typedef enum {
  JOB_FEEDING,
  JOB_FED,
  JOB_STOPPING,
  JOB_FINISHED,
  JOB_TOLD,
} JobState;

typedef struct
{
  GVariant *results;
  gboolean  boxed;
  gint64    first;       /* position in the input of its first task */
  gsize     offset;      /* results already handed out */
  gsize     n_tasks;     /* tasks one result stands for: 1, or a whole chunk's */
} ResultChunk;

typedef struct
{
  MpireJobEvent  event;
  int            worker_id;
  MpireChunk    *chunk;
  GVariant      *results;
  gboolean       boxed;
  GError        *error;
} JobMessage;

struct _MpireMapJob
{
  gatomicrefcount    ref_count;
  GMutex             lock;
  MpireScheduler    *scheduler;    /* the pool's, which @pool keeps */
  GObject           *pool;
  const MpireMapJobSignals *signals;
  MpireTask         *task;
  guint64            serial;
  gboolean           ordered;
  gboolean           collect;
  int                n_jobs;

  /* input; for a pool-fed job, under `lock` */
  gboolean           pool_fed;
  GVariant          *array;
  MpireSource       *source;
  gint64             limit;        /* -1: until the source ends */
  MpireChunker       chunker;
  gint64             max_active;
  gint64             n_pulled;
  gint64             n_consumed;
  gint64             n_chunks;
  gint64             n_chunks_done;
  gint64             n_chunks_arrived; /* pool-fed: results the pool posted */

  /* results */
  GHashTable        *early;        /* ordered: chunk index → ResultChunk */
  gint64             next_index;   /* ordered: next chunk to make ready */
  GQueue             ready;        /* ResultChunk, in delivery order */
  GError            *error;
  gboolean           error_reported; /* imap: next() gave the error */
  JobState           state;        /* written under `lock` */

  /* progress signal and bar */
  MpireProgressBar  *bar;
  gint64             n_done;       /* completed (map) or handed out (imap) */
  gint64             progress_done;
  gint64             progress_time;
  GSource           *progress_source; /* tells progress held back by the rate limit */

  GMainContext      *context;
  GSource           *inbox_source;
  GSource           *cancel_source;  /* ready once cancelled (cancelled_cb) */
  GCancellable      *cancellable;
  gulong             cancel_handler;
  GQueue             inbox;        /* JobMessage, under `lock` */
  gint64             inbox_due;    /* when the inbox source is set to run; -1: not */
  MpireMapJobNotify  notify;
  gpointer           notify_data;

  /* apply: tasks given one by one, each with its own result */
  gboolean           apply;
  GQueue             apply_queue;        /* ApplyItem, not yet sent */
  gint64             task_timeout;       /* µs, or 0 */
  gboolean           retry;              /* retry-on-worker-death */
  GPtrArray         *apply_outstanding;  /* MpireAsyncResult, not yet settled */

  /* array-chunks: the task takes each chunk of rows at once */
  gboolean           whole;
  gint64             row_width;          /* elements in a row of the input */
  gboolean           concatenate;
};

typedef struct
{
  MpireTask        *task;
  GVariant         *args;
  gint64            timeout;
  MpireAsyncResult *result;
} ApplyItem;

static void
apply_item_free (ApplyItem *item)
{
  g_object_unref (item->task);
  g_variant_unref (item->args);
  g_object_unref (item->result);
  g_free (item);
}

static void finish (MpireMapJob *job,
                    GError      *error);

/* Moves to @state, outside the regions that hold `lock`. */
static void
set_state (MpireMapJob *job,
           JobState     state)
{
  g_mutex_lock (&job->lock);
  job->state = state;
  g_mutex_unlock (&job->lock);
}

/* Done or failed (its workers may still be stopping). */
static gboolean
ended (MpireMapJob *job)
{
  return job->state >= JOB_STOPPING;
}

static void
result_chunk_free (ResultChunk *rc)
{
  g_variant_unref (rc->results);
  g_free (rc);
}

static void
job_message_free (JobMessage *message)
{
  g_clear_pointer (&message->chunk, mpire_chunk_free);
  g_clear_pointer (&message->results, g_variant_unref);
  g_clear_error (&message->error);
  g_free (message);
}

/* @a * @b (both positive), or G_MAXINT64 past it. */
static gint64
saturated_product (gint64 a,
                   gint64 b)
{
  guint64 product;

  if (!g_uint64_checked_mul (&product, (guint64) a, (guint64) b) || product > G_MAXINT64)
    return G_MAXINT64;
  return (gint64) product;
}

static gboolean
check_count (gint64       value,
             const char  *name,
             GError     **error)
{
  if (value >= 0)
    return TRUE;

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("The map option “%s” must not be negative (it is %lld)"),
               name, (long long) value);
  return FALSE;
}

/* Rows of more than one element need an array of fixed-size elements
 * that holds a whole number of them. */
static gboolean
check_row_width (GVariant  *iterable,
                 gint64     row_width,
                 gboolean   whole,
                 GError   **error)
{
  if (row_width == 1)
    return TRUE;

  if (row_width < 1)
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                 _("The map option “row-width” must be at least 1 (it is %lld)"),
                 (long long) row_width);
  else if (!whole)
    g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                         _("The map option “row-width” is for array chunks: set “array-chunks” "
                           "too"));
  else if (iterable == NULL ||
           mpire_variant_type_fixed_size (g_variant_type_element (g_variant_get_type (iterable))) == 0)
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                 _("Rows of %lld elements need an input array of fixed-size elements (numbers, "
                   "or tuples of numbers), not %s"),
                 (long long) row_width,
                 iterable == NULL ? _("a lazy source") : g_variant_get_type_string (iterable));
  else if (g_variant_n_children (iterable) % row_width != 0)
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                 _("The input has %zu elements, which is not a whole number of rows of %lld"),
                 g_variant_n_children (iterable), (long long) row_width);
  else
    return TRUE;
  return FALSE;
}

/* A timeout option in µs, 0 for none. */
gint64
mpire_timeout_usec (double seconds)
{
  return seconds > 0 ? (gint64) (seconds * G_USEC_PER_SEC) : 0;
}

MpireMapJob *
mpire_map_job_new (MpireScheduler           *scheduler,
                   GObject                  *pool,
                   const MpireMapJobSignals *signals,
                   MpireTask                *task,
                   GVariant         *iterable,
                   MpireMapOptions  *options,
                   gboolean          ordered,
                   gboolean          collect,
                   int               n_jobs,
                   GError          **error)
{
  g_autoptr(MpireMapOptions) defaults = NULL;
  g_autoptr(MpireSource) source = NULL;
  g_autoptr(MpireProgressBar) bar = NULL;
  gint64 iterable_len, chunk_size, n_splits, max_active;
  MpireMapJob *job;

  if (options == NULL)
    options = defaults = mpire_map_options_new ();

  iterable_len = mpire_map_options_get_iterable_len (options);
  chunk_size = mpire_map_options_get_chunk_size (options);
  n_splits = mpire_map_options_get_n_splits (options);
  max_active = mpire_map_options_get_max_tasks_active (options);
  if (!check_count (chunk_size, "chunk-size", error) ||
      !check_count (n_splits, "n-splits", error) ||
      !check_count (max_active, "max-tasks-active", error) ||
      !check_count (mpire_map_options_get_worker_lifespan (options), "worker-lifespan", error))
    return NULL;
  if (iterable_len < -1)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("The map option “iterable-len” must be -1 (unknown) or a number of "
                     "tasks (it is %lld)"), (long long) iterable_len);
      return NULL;
    }

  if (iterable != NULL && !g_variant_is_of_type (iterable, G_VARIANT_TYPE_ARRAY))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("The input of a map must be an array (type “a…”), one element per "
                     "task, not a value of type “%s”"),
                   g_variant_get_type_string (iterable));
      return NULL;
    }
  if (iterable != NULL && mpire_map_options_has_source (options))
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                           _("A map was given both an array and a lazy source; give one"));
      return NULL;
    }
  if (iterable == NULL && !mpire_map_options_has_source (options))
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                           _("A map needs an array of task arguments or a lazy source "
                             "(mpire_map_options_set_source())"));
      return NULL;
    }

  if (mpire_map_options_get_progress_bar (options))
    {
      GError *bar_error = NULL;

      bar = mpire_progress_bar_new (mpire_map_options_get_progress_bar_options (options),
                                    mpire_map_options_get_progress_bar_style (options),
                                    STDERR_FILENO, &bar_error);
      if (bar_error != NULL)
        {
          g_propagate_error (error, bar_error);
          return NULL;
        }
    }

  if (!check_row_width (iterable, mpire_map_options_get_row_width (options),
                        mpire_map_options_get_array_chunks (options), error))
    return NULL;

  if (iterable == NULL)
    source = mpire_map_options_steal_source (options);

  job = g_new0 (MpireMapJob, 1);
  job->bar = g_steal_pointer (&bar);
  job->task_timeout = mpire_timeout_usec (mpire_map_options_get_task_timeout (options));
  job->retry = mpire_map_options_get_retry_on_worker_death (options);
  job->whole = mpire_map_options_get_array_chunks (options);
  job->row_width = mpire_map_options_get_row_width (options);
  job->concatenate = mpire_map_options_get_concatenate (options);
  g_atomic_ref_count_init (&job->ref_count);
  g_mutex_init (&job->lock);
  job->scheduler = scheduler;
  job->pool = g_object_ref (pool);
  job->signals = signals;
  job->task = g_object_ref (task);
  job->serial = mpire_scheduler_next_job_id (scheduler);
  job->ordered = ordered;
  job->collect = collect;
  job->n_jobs = n_jobs;
  job->source = g_steal_pointer (&source);
  job->early = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
                                      (GDestroyNotify) result_chunk_free);
  g_queue_init (&job->ready);
  g_queue_init (&job->inbox);

  job->limit = iterable_len;
  if (iterable != NULL)
    {
      gint64 len = (gint64) g_variant_n_children (iterable) / job->row_width;

      job->array = g_variant_ref_sink (iterable);
      job->limit = iterable_len >= 0 ? MIN (iterable_len, len) : len;
    }

  job->pool_fed = job->array != NULL && collect;
  job->inbox_due = -1;
  job->chunker.total = job->limit;
  if (chunk_size > 0)
    job->chunker.chunk_size = chunk_size;
  else if (job->limit >= 0)
    {
      /* More splits than tasks would make empty chunks. */
      n_splits = n_splits > 0 ? n_splits : (gint64) n_jobs * 64;
      job->chunker.n_splits = MAX (1, MIN (n_splits, job->limit));
    }
  else
    {
      g_warning ("%s", _("The number of tasks is unknown, so tasks are not chunked (chunk "
                         "size 1). Set the iterable-len or chunk-size map option to chunk "
                         "them."));
      job->chunker.chunk_size = 1;
    }

  job->max_active = max_active > 0
    ? max_active
    : saturated_product ((gint64) n_jobs * 2, mpire_chunker_max_chunk_len (&job->chunker));
  /* A chunk must fit, or nothing could ever be sent. */
  job->max_active = MAX (job->max_active, mpire_chunker_max_chunk_len (&job->chunker));

  return job;
}

/* A job that takes tasks one by one from mpire_map_job_add_apply() and
 * settles one MpireAsyncResult per task: a task's failure fails its
 * result only. It ends once no task is left; workers then stay. */
MpireMapJob *
mpire_map_job_new_apply (MpireScheduler           *scheduler,
                         GObject                  *pool,
                         const MpireMapJobSignals *signals,
                         MpireTask                *task,
                         MpireMapOptions  *options,
                         int               n_jobs,
                         GError          **error)
{
  MpireMapJob *job = mpire_map_job_new (scheduler, pool, signals, task,
                                        g_variant_new_array (G_VARIANT_TYPE_VARIANT, NULL, 0),
                                        options, FALSE, TRUE, n_jobs, error);

  if (job == NULL)
    return NULL;

  g_clear_pointer (&job->array, g_variant_unref);
  job->pool_fed = FALSE;
  job->apply = TRUE;
  job->whole = FALSE;
  job->apply_outstanding = g_ptr_array_new_with_free_func (g_object_unref);
  job->limit = -1;
  job->chunker.total = -1;
  job->chunker.n_splits = 0;
  job->chunker.chunk_size = 1;
  job->max_active = G_MAXINT64 / 2;
  return job;
}

static void feed (MpireMapJob *job);

/* Queues one task; FALSE if the job ended already. */
gboolean
mpire_map_job_add_apply (MpireMapJob *job,
                         MpireTask   *task,
                         GVariant    *args,
                         double       timeout,
                         GObject     *result)
{
  ApplyItem *item;

  if (ended (job))
    return FALSE;

  item = g_new0 (ApplyItem, 1);
  item->task = g_object_ref (task);
  item->timeout = mpire_timeout_usec (timeout);
  item->args = g_variant_ref_sink (args);
  item->result = g_object_ref (MPIRE_ASYNC_RESULT (result));
  g_queue_push_tail (&job->apply_queue, item);
  g_ptr_array_add (job->apply_outstanding, g_object_ref (result));
  set_state (job, JOB_FEEDING);
  /* Before the start, the start feeds it. */
  if (job->context != NULL)
    feed (job);
  return TRUE;
}

static void
settle_apply (MpireMapJob      *job,
              MpireAsyncResult *result,
              GVariant         *value,
              GError           *error)
{
  g_object_ref (result);
  g_ptr_array_remove_fast (job->apply_outstanding, result);
  if (error != NULL)
    mpire_async_result_fail (result, error);
  else
    mpire_async_result_complete (result, g_variant_ref (value));
  g_object_unref (result);
}

/* Fails every task of an apply job not settled yet. */
static void
fail_outstanding (MpireMapJob  *job,
                  const GError *error)
{
  g_autoptr(GPtrArray) outstanding = g_steal_pointer (&job->apply_outstanding);

  job->apply_outstanding = g_ptr_array_new_with_free_func (g_object_unref);
  g_queue_clear_full (&job->apply_queue, (GDestroyNotify) apply_item_free);
  for (guint i = 0; i < outstanding->len; i++)
    mpire_async_result_fail (outstanding->pdata[i], g_error_copy (error));
}

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Not GCancellableSource: GLib 2.74 leaks one that is cancelled from
 * another thread while it is destroyed. The handler, in the cancelling
 * thread, makes cancel_source ready; disconnecting waits for it. */
static void
clear_cancel (MpireMapJob *job)
{
  if (job->cancel_handler != 0)
    g_cancellable_disconnect (job->cancellable, job->cancel_handler);
  job->cancel_handler = 0;
  g_clear_object (&job->cancellable);
  clear_source (&job->cancel_source);
}

/* A finished job still hears how its workers end. */
static gboolean
heard_when_finished (JobMessage *message)
{
  return message->event == MPIRE_JOB_STOPPED || message->event == MPIRE_JOB_EXIT_FAILED ||
         message->event == MPIRE_JOB_WORKER_EXITED || message->event == MPIRE_JOB_WORKER_DIED;
}

/* Drops the messages not handled yet; @finishing marks the job finished
 * at the same moment (the pool posts with its lock held) and keeps those
 * a finished job still hears. */
static void
drop_inbox (MpireMapJob *job,
            gboolean     finishing)
{
  GMutex *lock = &job->lock;
  GQueue dropped = G_QUEUE_INIT;
  GList *l, *next;

  g_mutex_lock (lock);
  if (finishing && !ended (job))
    job->state = JOB_STOPPING;
  for (l = job->inbox.head; l != NULL; l = next)
    {
      next = l->next;
      if (!finishing || !heard_when_finished (l->data))
        {
          g_queue_push_tail (&dropped, l->data);
          g_queue_delete_link (&job->inbox, l);
        }
    }
  g_mutex_unlock (lock);
  g_queue_clear_full (&dropped, (GDestroyNotify) job_message_free);
}

/* Whether messages wait in the inbox; the scheduler asks, with its lock
 * held. */
static gboolean
has_messages (gpointer data)
{
  MpireMapJob *job = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&job->lock);

  return !g_queue_is_empty (&job->inbox);
}

MpireMapJob *
mpire_map_job_ref (MpireMapJob *job)
{
  g_atomic_ref_count_inc (&job->ref_count);
  return job;
}

void
mpire_map_job_unref (MpireMapJob *job)
{
  if (!g_atomic_ref_count_dec (&job->ref_count))
    return;

  if (!ended (job))
    finish (job, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                      _("The call was abandoned")));
  /* Nobody hears of the workers' end now, or of what came before it. */
  if (job->state == JOB_STOPPING)
    {
      mpire_scheduler_forget_job (job->scheduler, job);
      drop_inbox (job, FALSE);
    }

  g_assert (g_queue_is_empty (&job->inbox));
  clear_source (&job->progress_source);
  clear_cancel (job);
  if (job->inbox_source != NULL)
    {
      g_source_destroy (job->inbox_source);
      g_source_unref (job->inbox_source);
    }
  /* An abandoned call leaves its bar where it stopped. */
  if (job->bar != NULL)
    mpire_progress_bar_finish (job->bar, job->n_done, MAX (job->limit, 0));
  g_clear_pointer (&job->bar, mpire_progress_bar_free);
  g_clear_pointer (&job->context, g_main_context_unref);
  g_clear_pointer (&job->array, g_variant_unref);
  g_clear_pointer (&job->source, mpire_source_free);
  g_clear_pointer (&job->early, g_hash_table_unref);
  g_queue_clear_full (&job->ready, (GDestroyNotify) result_chunk_free);
  g_queue_clear_full (&job->apply_queue, (GDestroyNotify) apply_item_free);
  g_clear_pointer (&job->apply_outstanding, g_ptr_array_unref);
  g_clear_error (&job->error);
  g_clear_object (&job->task);
  g_clear_object (&job->pool);
  g_mutex_clear (&job->lock);
  g_free (job);
}

GMainContext *
mpire_map_job_get_context (MpireMapJob *job)
{
  return job->context;
}

/* Done, workers stopped at its end included. */
gboolean
mpire_map_job_is_finished (MpireMapJob *job)
{
  return job->state >= JOB_FINISHED;
}

gint64
mpire_map_job_get_n_pulled (MpireMapJob *job)
{
  return job->n_pulled;
}

/* At most one emission per interval, except the last one. */
#define PROGRESS_INTERVAL_USEC (G_USEC_PER_SEC / 20)

static void emit_progress (MpireMapJob *job,
                           gboolean     last);

static gboolean
progress_due (gpointer data)
{
  MpireMapJob *job = data;

  g_clear_pointer (&job->progress_source, g_source_unref);
  if (job->state != JOB_TOLD)
    emit_progress (job, FALSE);
  return G_SOURCE_REMOVE;
}

static void
emit_progress (MpireMapJob *job,
               gboolean     last)
{
  gint64 now = g_get_monotonic_time ();

  if (job->n_done == job->progress_done && (!last || job->progress_time != 0))
    return;
  if (!last && now - job->progress_time < PROGRESS_INTERVAL_USEC)
    {
      /* Told when the interval is over, even if no result comes then. */
      if (job->progress_source == NULL)
        {
          job->progress_source =
            g_timeout_source_new ((guint) ((job->progress_time + PROGRESS_INTERVAL_USEC - now) / 1000 + 1));
          g_source_set_callback (job->progress_source, progress_due, job, NULL);
          g_source_set_static_name (job->progress_source, "[mpire] held-back progress");
          g_source_attach (job->progress_source, job->context);
        }
      return;
    }

  job->progress_done = job->n_done;
  job->progress_time = now;
  if (job->bar != NULL && !last)
    mpire_progress_bar_update (job->bar, job->n_done, MAX (job->limit, 0));
  job->signals->progress (job->pool, job->n_done, MAX (job->limit, 0));
}

/* Signals follow what the caller has: a collecting call ends when its
 * job does, an iterating one once its last result was taken. The end is
 * told once: the last progress, then `finished`. */
static void
update_signals (MpireMapJob *job)
{
  if (job->state == JOB_TOLD)
    return;

  if (mpire_map_job_is_finished (job) && (job->collect || g_queue_is_empty (&job->ready)))
    {
      set_state (job, JOB_TOLD);
      clear_source (&job->progress_source);
      if (job->bar != NULL)
        mpire_progress_bar_finish (job->bar, job->n_done, MAX (job->limit, 0));
      emit_progress (job, TRUE);
      job->signals->finished (job->pool);
    }
  else
    emit_progress (job, FALSE);
}

/* Tells the caller's side about new results; a collecting call hears
 * about its end once. */
static void
notify (MpireMapJob *job)
{
  gboolean told_before = job->state == JOB_TOLD;

  update_signals (job);
  if (job->notify != NULL && !(job->collect && told_before))
    job->notify (job, job->notify_data);
}

static void
finish (MpireMapJob *job,
        GError      *error)
{
  gboolean failed = error != NULL;

  if (ended (job))
    {
      g_clear_error (&error);
      return;
    }

  /* A worker_exit that failed before the call's end (its worker was
   * stopped early) fails the call all the same. */
  if (job->error == NULL)
    job->error = error;
  else
    g_clear_error (&error);
  if (job->apply && failed)
    fail_outstanding (job, job->error);
  drop_inbox (job, TRUE);

  /* Cancelling still ends the wait for the workers stopping. */
  if (!mpire_scheduler_release (job->scheduler, job, failed))
    {
      set_state (job, JOB_FINISHED);
      clear_cancel (job);
    }
}

void
mpire_map_job_fail (MpireMapJob *job,
                    GError      *error)
{
  finish (job, error);
  notify (job);
}

static ResultChunk *
result_chunk_new (MpireChunk *chunk,
                  GVariant   *results,
                  gboolean    boxed)
{
  ResultChunk *rc = g_new0 (ResultChunk, 1);

  rc->results = g_variant_ref (results);
  rc->boxed = boxed;
  rc->first = chunk->first;
  rc->n_tasks = chunk->whole ? chunk->n_tasks : 1;
  return rc;
}

static void
push_ready (MpireMapJob *job,
            MpireChunk  *chunk,
            GVariant    *results,
            gboolean     boxed)
{
  g_queue_push_tail (&job->ready, result_chunk_new (chunk, results, boxed));
}

/* Makes a chunk's results ready: at once when unordered, otherwise once
 * every chunk before it is. */
static void
make_ready (MpireMapJob *job,
            MpireChunk  *chunk,
            GVariant    *results,
            gboolean     boxed)
{
  if (!job->ordered)
    {
      push_ready (job, chunk, results, boxed);
      return;
    }

  g_hash_table_insert (job->early, g_memdup2 (&chunk->index, sizeof chunk->index),
                       result_chunk_new (chunk, results, boxed));
  for (;;)
    {
      gpointer key, value;

      if (!g_hash_table_steal_extended (job->early, &job->next_index, &key, &value))
        break;
      g_free (key);
      g_queue_push_tail (&job->ready, value);
      job->next_index++;
    }
}

/* Takes up to @len tasks from the lazy source; fewer at its end. */
static GVariant *
pull_from_source (MpireMapJob  *job,
                  gint64        len,
                  gboolean     *boxed,
                  GError      **error)
{
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  gboolean same = TRUE;

  while ((gint64) items->len < len)
    {
      GVariant *item = job->source->func (job->source->user_data, error);

      if (item == NULL)
        {
          set_state (job, JOB_FED);
          if (error != NULL && *error != NULL)
            return NULL;
          break;
        }
      g_variant_ref_sink (item);
      if (items->len > 0 && !g_variant_type_equal (g_variant_get_type (item),
                                                   g_variant_get_type (items->pdata[0])))
        same = FALSE;
      g_ptr_array_add (items, item);
    }

  if (items->len == 0)
    return NULL;

  *boxed = !same;
  if (same)
    return g_variant_new_array (NULL, (GVariant **) items->pdata, items->len);

  for (guint i = 0; i < items->len; i++)
    {
      GVariant *box = g_variant_ref_sink (g_variant_new_variant (items->pdata[i]));
      g_variant_unref (items->pdata[i]);
      items->pdata[i] = box;
    }
  return g_variant_new_array (G_VARIANT_TYPE_VARIANT, (GVariant **) items->pdata, items->len);
}

static void
check_done (MpireMapJob *job)
{
  GMutex *lock = &job->lock;
  gboolean done;

  /* A pool-fed job's input is pulled under the job's lock. */
  g_mutex_lock (lock);
  done = job->state == JOB_FED && job->n_chunks_done == job->n_chunks;
  g_mutex_unlock (lock);
  if (done)
    finish (job, NULL);
}

/* How many tasks the next chunk takes: 0 if the back-pressure limit
 * does not allow one now, -1 if the input is exhausted. */
static gint64
next_chunk_len (MpireMapJob *job)
{
  gint64 len = mpire_chunker_chunk_len (&job->chunker, job->n_chunks, job->n_pulled);

  if (job->limit >= 0)
    len = MIN (len, job->limit - job->n_pulled);
  if (len <= 0)
    return -1;
  if (len > job->max_active - (job->n_pulled - job->n_consumed))
    return 0;
  return len;
}

/* The next chunk, of @args (taken); %NULL if it is too large to send. */
static MpireChunk *
chunk_new (MpireMapJob  *job,
           GVariant     *args,
           gboolean      boxed,
           GObject      *tag,
           char         *task_name,
           gint64        timeout,
           GError      **error)
{
  MpireChunk *chunk = g_new0 (MpireChunk, 1);

  chunk->job = job;
  chunk->id = (job->serial << 40) | (guint64) job->n_chunks;
  chunk->index = job->n_chunks;
  chunk->first = job->n_pulled;
  chunk->n_tasks = g_variant_n_children (args) / job->row_width;
  chunk->args = args;
  chunk->boxed = boxed;
  chunk->whole = job->whole;
  chunk->tag = tag;
  chunk->timeout = timeout;
  chunk->retry = job->retry;
  chunk->task_name = task_name != NULL ? task_name : g_strdup (mpire_task_get_name (job->task));
  if (!mpire_chunk_encode (chunk, error))
    {
      mpire_chunk_free (chunk);
      return NULL;
    }
  job->n_chunks++;
  job->n_pulled += chunk->n_tasks;
  return chunk;
}

static GVariant *
array_slice (MpireMapJob *job,
             gint64       len)
{
  return g_variant_ref_sink (mpire_array_slice (job->array, job->n_pulled * job->row_width,
                                                len * job->row_width));
}

/* A pool-fed job (a map over an array: its input is already in memory,
 * its results are consumed as they arrive) is fed by whichever thread
 * frees room first, the pool's as results arrive or the caller's at the
 * start, with both locks held: a worker gets its next chunk without
 * waiting for the caller's thread. */
static gboolean
feed_array_locked (MpireMapJob  *job,
                   GError      **error)
{
  gint64 len = 0;

  while (!ended (job) && (len = next_chunk_len (job)) > 0)
    {
      MpireChunk *chunk = chunk_new (job, array_slice (job, len), FALSE, NULL, NULL,
                                     job->task_timeout, error);

      if (chunk == NULL)
        return FALSE;
      mpire_scheduler_submit_locked (job->scheduler, chunk);
    }
  if (len < 0 && job->state == JOB_FEEDING)
    job->state = JOB_FED;
  if (job->state == JOB_FED)
    mpire_scheduler_submit_done_locked (job->scheduler, job);
  return TRUE;
}

/* Takes tasks from the input while the back-pressure limit allows. */
static void
feed (MpireMapJob *job)
{
  g_autoptr(GError) error = NULL;
  gint64 len = 0;

  if (job->pool_fed)
    {
      GMutex *lock = mpire_scheduler_get_lock (job->scheduler);
      gboolean fed;

      g_mutex_lock (lock);
      g_mutex_lock (&job->lock);
      fed = feed_array_locked (job, &error);
      g_mutex_unlock (&job->lock);
      g_mutex_unlock (lock);
      if (!fed)
        finish (job, g_steal_pointer (&error));
      check_done (job);
      return;
    }

  while (job->state == JOB_FEEDING && (len = next_chunk_len (job)) > 0)
    {
      GVariant *args;
      GObject *tag = NULL;
      char *task_name = NULL;
      gint64 timeout = job->task_timeout;
      gboolean boxed = FALSE;
      MpireChunk *chunk;

      if (job->apply)
        {
          ApplyItem *item = g_queue_pop_head (&job->apply_queue);

          if (item == NULL)
            {
              set_state (job, JOB_FED);
              break;
            }
          args = g_variant_ref_sink (g_variant_new_array (NULL, &item->args, 1));
          tag = G_OBJECT (g_object_ref (item->result));
          task_name = g_strdup (mpire_task_get_name (item->task));
          timeout = item->timeout;
          apply_item_free (item);
        }
      else if (job->array != NULL)
        args = array_slice (job, len);
      else
        {
          args = pull_from_source (job, len, &boxed, &error);
          if (error != NULL)
            {
              finish (job, g_steal_pointer (&error));
              return;
            }
          if (args == NULL)
            break;
          g_variant_ref_sink (args);
        }

      chunk = chunk_new (job, args, boxed, tag, task_name, timeout, &error);
      if (chunk == NULL)
        {
          finish (job, g_steal_pointer (&error));
          return;
        }
      mpire_scheduler_submit (job->scheduler, chunk);
    }
  if (len < 0 && job->state == JOB_FEEDING)
    set_state (job, JOB_FED);

  if (job->state == JOB_FED && !job->apply)
    mpire_scheduler_submit_done (job->scheduler, job);
  check_done (job);
}

/* One task of an apply job is done: it settles its own result only. */
static void
handle_apply_message (MpireMapJob *job,
                      JobMessage  *message)
{
  MpireAsyncResult *result = MPIRE_ASYNC_RESULT (message->chunk->tag);

  if (message->event == MPIRE_JOB_CHUNK_DONE)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (message->results, 0);
      g_autoptr(GVariant) value = message->boxed ? g_variant_get_variant (child)
                                                 : g_steal_pointer (&child);

      job->n_done++;
      settle_apply (job, result, value, NULL);
    }
  else
    {
      g_autoptr(GVariant) args = mpire_chunk_get_task_args (message->chunk, 0);

      job->signals->task_failed (job->pool, message->error, args);
      settle_apply (job, result, NULL, g_steal_pointer (&message->error));
    }

  job->n_chunks_done++;
  feed (job);
}

static void
handle_message (MpireMapJob *job,
                JobMessage  *message)
{
  /* What arrives for the end of a call once its tasks are done. */
  if (message->event == MPIRE_JOB_EXIT_FAILED)
    {
      if (job->error == NULL)
        job->error = g_steal_pointer (&message->error);
      return;
    }
  if (message->event == MPIRE_JOB_STOPPED)
    {
      if (job->state == JOB_STOPPING)
        {
          set_state (job, JOB_FINISHED);
          clear_cancel (job);
        }
      return;
    }
  if (message->event == MPIRE_JOB_WORKER_STARTED || message->event == MPIRE_JOB_WORKER_EXITED ||
      message->event == MPIRE_JOB_WORKER_DIED)
    {
      job->signals->worker_event (job->pool, message->event, message->worker_id, message->error);
      return;
    }
  if (ended (job))
    return;

  if (job->apply && message->chunk != NULL &&
      (message->event == MPIRE_JOB_CHUNK_DONE || message->event == MPIRE_JOB_CHUNK_FAILED))
    {
      handle_apply_message (job, message);
      return;
    }

  switch (message->event)
    {
    case MPIRE_JOB_CHUNK_DONE:
      make_ready (job, message->chunk, message->results, message->boxed);
      job->n_chunks_done++;
      if (job->collect)
        job->n_done += message->chunk->n_tasks;
      /* A pool-fed job's results were consumed, and room for more used,
       * when the pool posted them. */
      if (job->pool_fed)
        check_done (job);
      else
        {
          if (job->collect)
            job->n_consumed += message->chunk->n_tasks;
          feed (job);
        }
      break;

    case MPIRE_JOB_CHUNK_FAILED:
      /* A task's own error comes with the results of the tasks before it
       * in its chunk: they come first, when every result before them is
       * ready; nothing after them does. */
      if (message->results != NULL && g_variant_n_children (message->results) > 0 &&
          (!job->ordered || message->chunk->index == job->next_index))
        push_ready (job, message->chunk, message->results, message->boxed);
      {
        g_autoptr(GVariant) args = NULL;

        if (message->results != NULL)
          args = mpire_chunk_get_task_args (message->chunk, g_variant_n_children (message->results));
        job->signals->task_failed (job->pool, message->error, args);
      }
      finish (job, g_steal_pointer (&message->error));
      break;

    case MPIRE_JOB_WORKER_LOST:
      {
        g_autoptr(GError) error = NULL;
        GMutex *lock = &job->lock;
        gboolean exhausted;

        /* A pool-fed job's input is pulled under the job's lock. */
        g_mutex_lock (lock);
        exhausted = job->state != JOB_FEEDING;
        g_mutex_unlock (lock);
        if (!mpire_scheduler_start_workers (job->scheduler, job, FALSE, !exhausted, &error))
          finish (job, g_steal_pointer (&error));
      }
      break;

    case MPIRE_JOB_TERMINATED:
      finish (job, g_error_new_literal (MPIRE_ERROR, MPIRE_ERROR_POOL_TERMINATED,
                                        _("The pool was terminated while the call was running")));
      break;

    default:
      g_assert_not_reached ();
    }
}

static gboolean
inbox_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs inbox_funcs = {
  .dispatch = inbox_dispatch,
};

static gboolean
drain_inbox (gpointer user_data)
{
  MpireMapJob *job = user_data;
  GMutex *lock = &job->lock;
  GQueue inbox;

  mpire_map_job_ref (job);

  g_mutex_lock (lock);
  inbox = job->inbox;
  g_queue_init (&job->inbox);
  job->inbox_due = -1;
  g_mutex_unlock (lock);

  for (GList *l = inbox.head; l != NULL; l = l->next)
    handle_message (job, l->data);
  g_queue_clear_full (&inbox, (GDestroyNotify) job_message_free);

  notify (job);
  mpire_map_job_unref (job);
  return G_SOURCE_CONTINUE;
}

static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  MpireMapJob *job = user_data;

  g_source_set_ready_time (job->cancel_source, 0);
}

static gboolean
cancelled_cb (gpointer user_data)
{
  MpireMapJob *job = user_data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (job->cancellable, &error);
  /* Once the tasks are done, the call may wait for workers that run
   * their worker_exit: it fails all the same. */
  if (ended (job) && job->error == NULL)
    job->error = g_steal_pointer (&error);
  finish (job, error);
  /* It waits for no worker: those stopping are killed. */
  mpire_scheduler_cancel (job->scheduler, job);
  notify (job);
  return G_SOURCE_REMOVE;
}

void
mpire_map_job_start (MpireMapJob       *job,
                     GCancellable      *cancellable,
                     MpireMapJobNotify  notify_func,
                     gpointer           data)
{
  g_autoptr(GError) error = NULL;

  job->notify = notify_func;
  job->notify_data = data;
  job->context = g_main_context_ref_thread_default ();

  /* The pool may have posted already (a worker of the call before that
   * ended meanwhile): those messages wait for the source. */
  {
    g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&job->lock);

    job->inbox_source = g_source_new (&inbox_funcs, sizeof (GSource));
    g_source_set_callback (job->inbox_source, drain_inbox, job, NULL);
    g_source_set_static_name (job->inbox_source, "[mpire] job inbox");
    g_source_attach (job->inbox_source, job->context);
    if (!g_queue_is_empty (&job->inbox))
      {
        job->inbox_due = 0;
        g_source_set_ready_time (job->inbox_source, 0);
      }
  }

  if (cancellable != NULL)
    {
      job->cancel_source = g_source_new (&inbox_funcs, sizeof (GSource));
      g_source_set_callback (job->cancel_source, cancelled_cb, job, NULL);
      g_source_set_static_name (job->cancel_source, "[mpire] job cancelled");
      g_source_attach (job->cancel_source, job->context);
      job->cancellable = g_object_ref (cancellable);
      job->cancel_handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled), job,
                                                   NULL);
    }

  if (!mpire_scheduler_start_workers (job->scheduler, job, TRUE, TRUE, &error))
    {
      mpire_map_job_fail (job, g_steal_pointer (&error));
      return;
    }

  feed (job);
  if (ended (job))
    notify (job);
}

/* Has the job's context drain the inbox by @due (monotonic µs). */
static void
wake_inbox (MpireMapJob *job,
            gint64       due)
{
  if (job->inbox_source == NULL || (job->inbox_due != -1 && job->inbox_due <= due))
    return;
  job->inbox_due = due;
  g_source_set_ready_time (job->inbox_source, due);
}

/* With both locks held: results of a pool-fed job arrived, which
 * makes room for more of its input. Its caller hears of them at the
 * next progress interval, unless they end the call. */
static void
chunk_arrived (MpireMapJob *job,
               MpireChunk  *chunk)
{
  g_autoptr(GError) error = NULL;

  job->n_consumed += chunk->n_tasks;
  job->n_chunks_arrived++;
  if (!feed_array_locked (job, &error))
    {
      JobMessage *message = g_new0 (JobMessage, 1);

      message->event = MPIRE_JOB_CHUNK_FAILED;
      message->error = g_steal_pointer (&error);
      g_queue_push_tail (&job->inbox, message);
    }
  else if (!(job->state == JOB_FED && job->n_chunks_arrived == job->n_chunks))
    {
      wake_inbox (job, g_get_monotonic_time () + PROGRESS_INTERVAL_USEC);
      return;
    }
  wake_inbox (job, 0);
}

/* For post() and post_worker(), which the scheduler calls with its lock
 * held. */
static void
post_message (MpireMapJob *job,
              JobMessage  *message)
{
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (&job->lock);

  if (ended (job) && !heard_when_finished (message))
    {
      job_message_free (message);
      return;
    }

  g_queue_push_tail (&job->inbox, message);
  if (job->pool_fed && message->event == MPIRE_JOB_CHUNK_DONE)
    chunk_arrived (job, message->chunk);
  else
    wake_inbox (job, 0);
}

/* With the scheduler's lock held: what its workers did for the job. */
static void
post (gpointer       job,
      MpireJobEvent  event,
      MpireChunk    *chunk,
      GVariant      *results,
      gboolean       boxed,
      GError        *error)
{
  JobMessage *message = g_new0 (JobMessage, 1);

  message->event = event;
  message->chunk = chunk;
  message->results = results != NULL ? g_variant_ref (results) : NULL;
  message->boxed = boxed;
  message->error = error;
  post_message (job, message);
}

/* With the scheduler's lock held: a worker started or ended. */
static void
post_worker (gpointer       job,
             MpireJobEvent  event,
             int            worker_id,
             GError        *error)
{
  JobMessage *message = g_new0 (JobMessage, 1);

  message->event = event;
  message->worker_id = worker_id;
  message->error = error;
  post_message (job, message);
}

static const MpireSchedulerJobFuncs scheduler_funcs = { post, post_worker, has_messages };

/* Makes the job the one its scheduler serves, with @call's settings;
 * fails with %MPIRE_ERROR_POOL_BUSY while another one is. */
gboolean
mpire_map_job_claim (MpireMapJob              *job,
                     const MpireSchedulerCall *call,
                     GError                  **error)
{
  return mpire_scheduler_claim (job->scheduler, job, &scheduler_funcs, call, error);
}

/* @index (optional) is set to the position of the item's task in the
 * input. */
MpireJobNext
mpire_map_job_next (MpireMapJob  *job,
                    GVariant    **item,
                    gint64       *index,
                    GError      **error)
{
  ResultChunk *rc = g_queue_peek_head (&job->ready);

  if (rc != NULL)
    {
      g_autoptr(GVariant) child = NULL;

      if (index != NULL)
        *index = rc->first + (gint64) rc->offset;
      child = g_variant_get_child_value (rc->results, rc->offset++);
      *item = rc->boxed ? g_variant_get_variant (child) : g_steal_pointer (&child);
      job->n_consumed += rc->n_tasks;
      job->n_done += rc->n_tasks;
      if (rc->offset == g_variant_n_children (rc->results))
        result_chunk_free (g_queue_pop_head (&job->ready));
      feed (job);
      update_signals (job);
      return MPIRE_JOB_NEXT_ITEM;
    }

  if (!mpire_map_job_is_finished (job))
    return MPIRE_JOB_NEXT_WAIT;

  if (job->error != NULL && !job->error_reported)
    {
      job->error_reported = TRUE;
      g_propagate_error (error, g_error_copy (job->error));
      return MPIRE_JOB_NEXT_ERROR;
    }

  return MPIRE_JOB_NEXT_END;
}

/* The arrays that chunks returned, as one array when they have one type
 * (MPIRE's concatenate_numpy_output); @results as is otherwise. */
static GVariant *
concatenate_arrays (GVariant *results)
{
  g_autoptr(GVariant) owned = results;
  const GVariantType *element_type = g_variant_type_element (g_variant_get_type (results));
  g_autoptr(GPtrArray) arrays = NULL;
  g_autofree gboolean *boxed = NULL;
  gsize n = g_variant_n_children (results);

  if (n == 0 || !g_variant_type_is_array (element_type))
    return g_steal_pointer (&owned);

  arrays = g_ptr_array_new_full (n, (GDestroyNotify) g_variant_unref);
  for (gsize i = 0; i < n; i++)
    g_ptr_array_add (arrays, g_variant_get_child_value (results, i));
  boxed = g_new0 (gboolean, n);
  return g_variant_ref_sink (mpire_array_concat (arrays, boxed, NULL));
}

GVariant *
mpire_map_job_collect (MpireMapJob  *job,
                       GError      **error)
{
  g_autoptr(GPtrArray) arrays = g_ptr_array_new ();
  g_autoptr(GArray) boxed = g_array_new (FALSE, FALSE, sizeof (gboolean));
  GVariant *result;

  g_assert (mpire_map_job_is_finished (job));

  if (job->error != NULL)
    {
      g_propagate_error (error, g_error_copy (job->error));
      return NULL;
    }

  for (GList *l = job->ready.head; l != NULL; l = l->next)
    {
      ResultChunk *rc = l->data;

      g_ptr_array_add (arrays, rc->results);
      g_array_append_val (boxed, rc->boxed);
    }

  result = g_variant_ref_sink (mpire_array_concat (arrays, (gboolean *) boxed->data,
                                                   mpire_task_get_result_type (job->task)));
  if (job->whole && job->concatenate)
    return concatenate_arrays (result);
  return result;
}
