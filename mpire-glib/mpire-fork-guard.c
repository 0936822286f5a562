/* mpire-fork-guard.c: the library's own threads held still while a pool
 * forks a worker
 *
 * fork() copies only the forking thread: a lock that another thread held
 * at that moment stays locked for ever in the child. GObject's signal
 * lock is the one that bites: the dashboard's threads run libsoup, which
 * emits signals all the time, and every object a worker frees takes that
 * lock (g_signal_handlers_destroy()), so a worker forked while one of
 * them emitted hung at its first unref. (A pool's own I/O thread is
 * parked by its scheduler: mpire-pool-thread.c.)
 *
 * So a thread of the library that runs a main context of its own adds
 * that context here, and a fork goes:
 *
 *   mpire_fork_guard_hold ()       every added context runs a source of
 *                                  the highest priority that waits, and
 *                                  hold() returns once all of them wait
 *                                  (between two dispatches: no GLib lock
 *                                  held), or after HOLD_TIMEOUT: a thread
 *                                  busy for that long is not waited for
 *   fork ()
 *   mpire_fork_guard_release_parent ()   the threads go on
 *   mpire_fork_guard_release_child ()    the child has none of them
 *
 * hold() returns with the guard's lock held, and the releases unlock it,
 * so forks of two pools are one after the other, and the child gets the
 * lock in a known state (locked by its only thread).
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-fork-guard-private.h"

/* How long hold() waits for a busy thread. */
#define HOLD_TIMEOUT (G_TIME_SPAN_SECOND)

static GMutex guard_lock;
static GCond guard_cond;
static GPtrArray *guarded;   /* (element-type GMainContext) */
static guint64 hold_serial;  /* odd while a fork holds the threads */
static guint n_waiting;      /* threads waiting in wait_cb() */

void
mpire_fork_guard_add (GMainContext *context)
{
  g_mutex_lock (&guard_lock);
  if (guarded == NULL)
    guarded = g_ptr_array_new_with_free_func ((GDestroyNotify) g_main_context_unref);
  g_ptr_array_add (guarded, g_main_context_ref (context));
  g_mutex_unlock (&guard_lock);
}

void
mpire_fork_guard_remove (GMainContext *context)
{
  g_mutex_lock (&guard_lock);
  if (guarded != NULL)
    g_ptr_array_remove (guarded, context);
  g_mutex_unlock (&guard_lock);
}

/* In a guarded thread: waits while the fork that attached this source
 * (its serial, @data) holds the threads. A source dispatched after that
 * fork returns at once. */
static gboolean
wait_cb (gpointer data)
{
  guint64 serial = GPOINTER_TO_SIZE (data);

  g_mutex_lock (&guard_lock);
  if (hold_serial == serial)
    {
      n_waiting++;
      g_cond_broadcast (&guard_cond);
      while (hold_serial == serial)
        g_cond_wait (&guard_cond, &guard_lock);
      n_waiting--;
    }
  g_mutex_unlock (&guard_lock);
  return G_SOURCE_REMOVE;
}

void
mpire_fork_guard_hold (void)
{
  gint64 deadline = g_get_monotonic_time () + HOLD_TIMEOUT;
  guint n_threads = 0;

  g_mutex_lock (&guard_lock);
  hold_serial++;
  for (guint i = 0; guarded != NULL && i < guarded->len; i++)
    {
      GMainContext *context = g_ptr_array_index (guarded, i);
      g_autoptr(GSource) source = NULL;

      /* The forking thread itself cannot wait. */
      if (g_main_context_is_owner (context))
        continue;
      source = g_idle_source_new ();
      g_source_set_priority (source, G_MININT);
      g_source_set_callback (source, wait_cb, GSIZE_TO_POINTER (hold_serial), NULL);
      g_source_set_static_name (source, "[mpire] wait for a fork");
      g_source_attach (source, context);
      n_threads++;
    }
  while (n_waiting < n_threads)
    if (!g_cond_wait_until (&guard_cond, &guard_lock, deadline))
      break;
}

void
mpire_fork_guard_release_parent (void)
{
  hold_serial++;
  g_cond_broadcast (&guard_cond);
  g_mutex_unlock (&guard_lock);
}

void
mpire_fork_guard_release_child (void)
{
  /* The guarded threads are not in this process. Their contexts are
   * dropped without unref: it would take GLib locks of those threads. */
  if (guarded != NULL)
    {
      g_ptr_array_set_free_func (guarded, NULL);
      g_clear_pointer (&guarded, g_ptr_array_unref);
    }
  hold_serial++;
  n_waiting = 0;
  g_mutex_unlock (&guard_lock);
}
