/* mpire-chunk.c: a chunk of tasks, on its way from a job to a worker
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-chunk-private.h"
#include "mpire-chunker-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-protocol-private.h"

/* Makes the body of @chunk's TASKS message; fails if it is too large to
 * send. */
gboolean
mpire_chunk_encode (MpireChunk  *chunk,
                    GError     **error)
{
  MpireTasksMessage message = {
    chunk->id, chunk->task_name, chunk->boxed, chunk->whole, chunk->args,
  };

  g_clear_pointer (&chunk->body, g_variant_unref);
  chunk->body = g_variant_ref_sink (mpire_message_tasks_new (&message));
  return mpire_frame_check_size (g_variant_get_size (chunk->body), error);
}

void
mpire_chunk_free (MpireChunk *chunk)
{
  g_clear_object (&chunk->tag);
  g_free (chunk->task_name);
  g_clear_pointer (&chunk->args, g_variant_unref);
  g_clear_pointer (&chunk->body, g_variant_unref);
  g_clear_pointer (&chunk->kept, mpire_result_buffer_free);
  g_free (chunk);
}

/* The arguments of task @index of @chunk (all of them when the task
 * takes the chunk whole), or %NULL past its end. */
GVariant *
mpire_chunk_get_task_args (MpireChunk *chunk,
                           gsize       index)
{
  g_autoptr(GVariant) child = NULL;

  if (chunk->whole)
    return index == 0 ? g_variant_ref (chunk->args) : NULL;
  if (index >= chunk->n_tasks)
    return NULL;
  child = g_variant_get_child_value (chunk->args, index);
  return chunk->boxed ? g_variant_get_variant (child) : g_steal_pointer (&child);
}

/* The arguments of task @index of @chunk as text, for an error message:
 * at most 200 characters of it. */
char *
mpire_chunk_describe_args (MpireChunk *chunk,
                           gsize       index)
{
  g_autoptr(GVariant) args = mpire_chunk_get_task_args (chunk, index);
  char *text;

  if (args == NULL)
    return g_strdup ("?");

  text = g_variant_print (args, FALSE);
  if (g_utf8_strlen (text, -1) > 200)
    {
      char *end = g_utf8_offset_to_pointer (text, 200);
      char *shortened = g_strdup_printf ("%.*s…", (int) (end - text), text);

      g_free (text);
      text = shortened;
    }
  return text;
}

/* A task that was running at three deaths of its worker in a row is
 * taken to be what kills it, rather than something from outside; or at
 * ten SIGKILLs, the signal of the out-of-memory killer but also of a user
 * or a supervisor, which a call with retries outlives. */
#define DEATH_WEIGHT        10
#define DEATH_WEIGHT_KILLED 3
#define MAX_DEATH_WEIGHT    30

/* Whether the chunk whose worker died in its task @index (@killed: by
 * SIGKILL) runs again. */
gboolean
mpire_chunk_retry_after_death (MpireChunk *chunk,
                               guint32     index,
                               gboolean    killed)
{
  guint weight = killed ? DEATH_WEIGHT_KILLED : DEATH_WEIGHT;

  if (!chunk->retry)
    return FALSE;
  if (chunk->n_deaths > 0 && chunk->death_index == index)
    chunk->n_deaths += weight;
  else
    {
      chunk->death_index = index;
      chunk->n_deaths = weight;
    }
  return chunk->n_deaths < MAX_DEATH_WEIGHT;
}

/* Keeps @results (boxed in an `av` if @boxed), those of the next tasks
 * of @chunk, which its worker sent before the chunk's end. */
void
mpire_chunk_keep_results (MpireChunk *chunk,
                          GVariant   *results,
                          gboolean    boxed)
{
  gsize n = g_variant_n_children (results);

  if (chunk->kept == NULL)
    chunk->kept = mpire_result_buffer_new ();
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (results, i);

      mpire_result_buffer_add (chunk->kept,
                               boxed ? g_variant_get_variant (child) : g_steal_pointer (&child));
    }
  chunk->n_kept += n;
}

/* The results of @chunk's tasks from its first: @results (taken), after
 * those kept, if any (then as one new array, and @boxed is updated). */
GVariant *
mpire_chunk_take_results (MpireChunk *chunk,
                          GVariant   *results,
                          gboolean   *boxed)
{
  if (chunk->kept == NULL)
    return results;

  mpire_chunk_keep_results (chunk, results, *boxed);
  g_variant_unref (results);
  return g_variant_ref_sink (mpire_result_buffer_end (chunk->kept, boxed));
}

/* Before @chunk runs again: its TASKS message keeps only the tasks whose
 * results did not come. */
void
mpire_chunk_skip_kept (MpireChunk *chunk)
{
  g_autoptr(GVariant) args = NULL;
  MpireTasksMessage message = { chunk->id, chunk->task_name, chunk->boxed, chunk->whole, NULL };

  if (chunk->n_kept == chunk->sent_from)
    return;

  args = g_variant_ref_sink (mpire_array_slice (chunk->args, chunk->n_kept,
                                                chunk->n_tasks - chunk->n_kept));
  message.args = args;
  g_variant_unref (chunk->body);
  chunk->body = g_variant_ref_sink (mpire_message_tasks_new (&message));
  chunk->sent_from = chunk->n_kept;
}

/* Whether @results, an array from the worker @worker_id, has the
 * @n_expected results it should. */
gboolean
mpire_chunk_check_results (MpireChunk  *chunk,
                           GVariant    *results,
                           int          worker_id,
                           gsize        n_expected,
                           GError     **error)
{
  if (g_variant_n_children (results) == n_expected)
    return TRUE;

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
               _("Worker %d sent %zu results of type “%s” for a chunk of %zu tasks"),
               worker_id, g_variant_n_children (results), g_variant_get_type_string (results),
               chunk->n_tasks);
  return FALSE;
}

/* Frees the chunks of @job in @queue; returns whether there were any. */
gboolean
mpire_chunk_queue_drop_job (GQueue   *queue,
                            gpointer  job)
{
  gboolean any = FALSE;
  GList *l = queue->head;

  while (l != NULL)
    {
      GList *next = l->next;
      MpireChunk *chunk = l->data;

      if (chunk->job == job)
        {
          g_queue_delete_link (queue, l);
          mpire_chunk_free (chunk);
          any = TRUE;
        }
      l = next;
    }
  return any;
}
