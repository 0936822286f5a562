/* mpire-chunk.c: a chunk of tasks, on its way from a job to a worker
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <glib/gi18n-lib.h>

#include "mpire-chunk-private.h"
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

/* A task that was running at this many deaths of its worker in a row is
 * taken to be what kills it, rather than something from outside. */
#define MAX_DEATHS_IN_ONE_TASK 3

/* Whether the chunk whose worker died in its task @index runs again. */
gboolean
mpire_chunk_retry_after_death (MpireChunk *chunk,
                               guint32     index)
{
  if (!chunk->retry)
    return FALSE;
  if (chunk->n_deaths > 0 && chunk->death_index == index)
    chunk->n_deaths++;
  else
    {
      chunk->death_index = index;
      chunk->n_deaths = 1;
    }
  return chunk->n_deaths < MAX_DEATHS_IN_ONE_TASK;
}
