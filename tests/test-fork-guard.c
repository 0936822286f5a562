/* test-fork-guard.c: the library's own threads wait while a pool forks
 *
 * A thread that runs a guarded main context ticks a counter from a
 * timeout source: while a fork holds the guard the counter stands still
 * (the thread waits between two dispatches), and after the release it
 * goes on. A thread stuck in a long callback is not waited for beyond
 * the guard's timeout, and a forked child starts with no guarded thread.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>

#include "mpire-fork-guard-private.h"

typedef struct {
  GMainContext *context;
  GMainLoop    *loop;
  GThread      *thread;
  gint          ticks;     /* atomic */
  gint          stuck;     /* atomic: the next tick blocks this long (µs) */
} Ticker;

static gboolean
tick_cb (gpointer data)
{
  Ticker *ticker = data;
  gint stuck = g_atomic_int_exchange (&ticker->stuck, 0);

  if (stuck > 0)
    g_usleep (stuck);
  g_atomic_int_inc (&ticker->ticks);
  return G_SOURCE_CONTINUE;
}

static gpointer
ticker_thread (gpointer data)
{
  Ticker *ticker = data;
  g_autoptr(GSource) source = g_timeout_source_new (1);

  g_main_context_push_thread_default (ticker->context);
  g_source_set_callback (source, tick_cb, ticker, NULL);
  g_source_attach (source, ticker->context);
  g_main_loop_run (ticker->loop);
  g_source_destroy (source);
  g_main_context_pop_thread_default (ticker->context);
  return NULL;
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static Ticker *
ticker_start (void)
{
  Ticker *ticker = g_new0 (Ticker, 1);

  ticker->context = g_main_context_new ();
  ticker->loop = g_main_loop_new (ticker->context, FALSE);
  mpire_fork_guard_add (ticker->context);
  ticker->thread = g_thread_new ("ticker", ticker_thread, ticker);
  /* Running. */
  while (g_atomic_int_get (&ticker->ticks) < 3)
    g_usleep (1000);
  return ticker;
}

static void
ticker_stop (Ticker *ticker)
{
  mpire_fork_guard_remove (ticker->context);
  g_main_context_invoke (ticker->context, quit_cb, ticker->loop);
  g_thread_join (ticker->thread);
  g_main_loop_unref (ticker->loop);
  g_main_context_unref (ticker->context);
  g_free (ticker);
}

/* Waits until @ticker ticked @n more times; FALSE after 30 s. */
static gboolean
ticks_go_on (Ticker *ticker,
             gint    n)
{
  gint from = g_atomic_int_get (&ticker->ticks);
  gint64 deadline = g_get_monotonic_time () + 30 * G_TIME_SPAN_SECOND;

  while (g_atomic_int_get (&ticker->ticks) < from + n)
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_usleep (1000);
    }
  return TRUE;
}

static void
test_hold_stops_threads (void)
{
  Ticker *tickers[2] = { ticker_start (), ticker_start () };

  for (guint round = 0; round < 3; round++)
    {
      gint held[2];

      mpire_fork_guard_hold ();
      for (guint i = 0; i < 2; i++)
        held[i] = g_atomic_int_get (&tickers[i]->ticks);
      g_usleep (50 * 1000);  /* 50 timeouts of 1 ms, if they ran */
      for (guint i = 0; i < 2; i++)
        g_assert_cmpint (g_atomic_int_get (&tickers[i]->ticks), ==, held[i]);
      mpire_fork_guard_release_parent ();
      for (guint i = 0; i < 2; i++)
        g_assert_true (ticks_go_on (tickers[i], 3));
    }
  for (guint i = 0; i < 2; i++)
    ticker_stop (tickers[i]);
}

/* A thread busy for longer than the guard's timeout (1 s) is not
 * waited for: hold() returns all the same. */
static void
test_busy_thread_not_waited_for (void)
{
  Ticker *ticker = ticker_start ();
  gint64 start;

  g_atomic_int_set (&ticker->stuck, 5 * G_USEC_PER_SEC);
  while (g_atomic_int_get (&ticker->stuck) != 0)
    g_usleep (1000);  /* now in its long tick */
  start = g_get_monotonic_time ();
  mpire_fork_guard_hold ();
  g_assert_cmpint (g_get_monotonic_time () - start, <, 4 * G_USEC_PER_SEC);
  mpire_fork_guard_release_parent ();
  g_assert_true (ticks_go_on (ticker, 3));
  ticker_stop (ticker);
}

/* The child has none of the parent's threads: a hold there (a pool of
 * the worker's own) returns at once, and the parent's threads go on. */
static void
test_child_forgets_threads (void)
{
  Ticker *ticker = ticker_start ();
  int status = 0;
  pid_t pid;

  mpire_fork_guard_hold ();
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      gint64 start;

      mpire_fork_guard_release_child ();
      start = g_get_monotonic_time ();
      mpire_fork_guard_hold ();
      mpire_fork_guard_release_parent ();
      _exit (g_get_monotonic_time () - start < G_USEC_PER_SEC / 2 ? 0 : 1);
    }
  mpire_fork_guard_release_parent ();
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);
  g_assert_true (ticks_go_on (ticker, 3));
  ticker_stop (ticker);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/fork-guard/hold-stops-threads", test_hold_stops_threads);
  g_test_add_func ("/mpire/fork-guard/busy-thread-not-waited-for", test_busy_thread_not_waited_for);
  g_test_add_func ("/mpire/fork-guard/child-forgets-threads", test_child_forgets_threads);

  return g_test_run ();
}
