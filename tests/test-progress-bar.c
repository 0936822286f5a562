/* test-progress-bar.c: drawing and options of the terminal bar
 *
 * SPDX-License-Identifier: MIT
 */

#include <poll.h>
#include <pty.h>
#include <string.h>
#include <unistd.h>

#include "mpire.h"
#include "mpire-progress-bar-private.h"

/* A bar of @style drawing on a pseudo-terminal, so that it is not
 * refused. */
static MpireProgressBar *
new_styled_bar (GVariant    *options,
                const char  *style,
                int         *master,
                GError     **error)
{
  int slave;

  g_assert_no_errno (openpty (master, &slave, NULL, NULL, NULL));
  return mpire_progress_bar_new (options, style, slave, error);
}

static MpireProgressBar *
new_bar (GVariant  *options,
         int       *master,
         GError   **error)
{
  return new_styled_bar (options, NULL, master, error);
}

static void
test_render_known_total (void)
{
  int master;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireProgressBar) bar =
    new_bar (g_variant_new_parsed ("{'desc': <'Work'>, 'unit': <'items'>}"), &master, &error);
  g_autofree char *half = NULL;
  g_autofree char *full = NULL;
  g_autofree char *start = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (bar);

  half = mpire_progress_bar_render (bar, 450, 1000, 2.0, 80);
  g_assert_true (g_str_has_prefix (half, "Work:  45%|"));
  g_assert_true (g_str_has_suffix (half, "| 450/1000 [00:02<00:02, 225.00 items/s]"));
  g_assert_cmpint (g_utf8_strlen (half, -1), ==, 80);

  full = mpire_progress_bar_render (bar, 1000, 1000, 3725.0, 80);
  g_assert_true (g_str_has_prefix (full, "Work: 100%|"));
  g_assert_true (g_str_has_suffix (full, "| 1000/1000 [1:02:05<00:00, 0.27 items/s]"));

  start = mpire_progress_bar_render (bar, 0, 1000, 0.0, 80);
  g_assert_true (g_str_has_suffix (start, "| 0/1000 [00:00<?, ? items/s]"));
  close (master);
}

/* The same without its colours, for comparing. */
static char *
strip_sgr (const char *line)
{
  g_autoptr(GRegex) sgr = g_regex_new ("\033\\[[0-9;]*m", 0, 0, NULL);

  return g_regex_replace_literal (sgr, line, -1, 0, "", 0, NULL);
}

static void
test_render_rich (void)
{
  int master;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireProgressBar) bar =
    new_styled_bar (g_variant_new_parsed ("{'desc': <'Work'>}"), "rich", &master, &error);
  g_autofree char *half = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *unknown = NULL;

  g_assert_no_error (error);
  half = mpire_progress_bar_render (bar, 450, 1000, 2.0, 80);
  plain = strip_sgr (half);
  g_assert_true (g_str_has_prefix (plain, "Work ━━━"));
  g_assert_nonnull (strstr (plain, "╸"));
  g_assert_true (g_str_has_suffix (plain, "  45% 450/1000 00:02 • 00:02 • 225.00 tasks/s"));
  g_assert_cmpint (g_utf8_strlen (plain, -1), ==, 80);

  g_free (plain);
  unknown = mpire_progress_bar_render (bar, 42, 0, 2.0, 80);
  plain = strip_sgr (unknown);
  g_assert_true (g_str_has_suffix (plain, " 42 00:02 • 21.00 tasks/s"));
  close (master);
}

static void
test_render_unknown_total (void)
{
  int master;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireProgressBar) bar = new_bar (NULL, &master, &error);
  g_autofree char *line = NULL;

  g_assert_no_error (error);
  line = mpire_progress_bar_render (bar, 300, 0, 1.5, 80);
  g_assert_cmpstr (line, ==, "300 tasks [00:01, 200.00 tasks/s]");
  close (master);
}

static void
test_draw_in_place (void)
{
  int master;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireProgressBar) bar = new_bar (g_variant_new_parsed ("{'colour': <'green'>}"),
                                             &master, &error);
  char buf[4096];
  gsize len = 0;

  g_assert_no_error (error);
  mpire_progress_bar_update (bar, 1, 4);
  mpire_progress_bar_finish (bar, 4, 4);
  mpire_progress_bar_finish (bar, 4, 4);

  /* The terminal hands the output over in pieces: up to the line feed. */
  while (memchr (buf, '\n', len) == NULL)
    {
      struct pollfd pfd = { master, POLLIN, 0 };
      gssize n;

      g_assert_cmpint (poll (&pfd, 1, 5000), ==, 1);
      n = read (master, buf + len, sizeof buf - 1 - len);
      g_assert_cmpint (n, >, 0);
      len += n;
    }
  buf[len] = '\0';
  /* Two draws, each from the start of the line; one line feed at the end. */
  g_assert_true (g_str_has_prefix (buf, "\r"));
  g_assert_nonnull (strstr (buf, " 25%|"));
  g_assert_nonnull (strstr (buf, "100%|"));
  g_assert_nonnull (strstr (buf, "\033[32m"));
  g_assert_nonnull (strstr (buf, "\033[K"));
  g_assert_true (g_str_has_suffix (buf, "\r\n") || g_str_has_suffix (buf, "\n"));
  g_assert_null (strchr (strchr (buf, '\n') + 1, '\n'));
  close (master);
}

/* Everything the terminal has to read within @ms milliseconds. */
static char *
read_all (int master,
          int ms)
{
  GString *out = g_string_new (NULL);
  struct pollfd pfd = { master, POLLIN, 0 };
  char buf[4096];

  while (poll (&pfd, 1, ms) == 1)
    {
      gssize n = read (master, buf, sizeof buf);

      if (n <= 0)
        break;
      g_string_append_len (out, buf, n);
    }
  return g_string_free (out, FALSE);
}

/* A bar at position 2 draws two lines down and comes back up. */
static void
test_draw_position (void)
{
  int master;
  g_autoptr(GError) error = NULL;
  g_autoptr(MpireProgressBar) bar = new_bar (g_variant_new_parsed ("{'desc': <'inner'>, "
                                                                   "'position': <2>}"),
                                             &master, &error);
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  mpire_progress_bar_update (bar, 1, 4);
  mpire_progress_bar_finish (bar, 4, 4);
  out = read_all (master, 1000);
  /* The terminal turns "\n" into "\r\n". */
  g_assert_true (g_str_has_prefix (out, "\r\n\r\n\rinner:  25%|"));
  g_assert_true (g_str_has_suffix (out, "\033[K\r\033[2A"));
  g_assert_nonnull (strstr (out, "\033[K\r\033[2A\r\n\r\n\rinner: 100%|"));
  close (master);
}

static GVariant *
fail_at_sixty (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  if (g_variant_get_int64 (args) == 60)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "sixty");
      return NULL;
    }
  return g_variant_ref (args);
}

/* A map that fails leaves its bar where it stopped: short of the total,
 * on a line of its own. */
static void
test_failed_map (void)
{
  g_autoptr(MpireTask) task = mpire_task_new ("fail-at-sixty", fail_at_sixty, NULL, NULL);
  g_autoptr(MpireWorkerPool) pool = mpire_worker_pool_new (2, MPIRE_START_METHOD_THREADING);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariantBuilder) input = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  const char *last;
  int master, slave, saved_stderr;

  for (gint64 i = 0; i < 100; i++)
    g_variant_builder_add (input, "x", i);
  mpire_map_options_set_progress_bar (options, TRUE);
  mpire_map_options_set_progress_bar_options (options, g_variant_new_parsed ("{'desc': <'Mapping'>}"));
  mpire_map_options_set_chunk_size (options, 1);

  g_assert_no_errno (openpty (&master, &slave, NULL, NULL, NULL));
  saved_stderr = dup (STDERR_FILENO);
  g_assert_no_errno (dup2 (slave, STDERR_FILENO));
  result = mpire_worker_pool_map (pool, task, g_variant_builder_end (input), options, NULL, &error);
  g_assert_no_errno (dup2 (saved_stderr, STDERR_FILENO));
  close (saved_stderr);
  close (slave);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);

  out = read_all (master, 1000);
  g_assert_true (g_str_has_suffix (out, "\r\n"));
  last = g_strrstr (out, "\rMapping:");
  g_assert_nonnull (last);
  g_test_message ("last draw: %s", last + 1);
  g_assert_null (strstr (last, "100%"));
  g_assert_null (strstr (last, "100/100"));
  g_assert_nonnull (strstr (last, "/100 ["));
  close (master);
}

/* Off a terminal: plain lines, the first update's and the last one
 * (others come at most every 10 s), with no control character, whatever
 * the colour, style or position; a disabled bar is none at all. */
static void
test_not_a_terminal (void)
{
  const char *styles[] = { "std", "rich" };

  for (gsize i = 0; i < G_N_ELEMENTS (styles); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MpireProgressBar) bar = NULL;
      g_autofree char *out = NULL;
      g_auto(GStrv) lines = NULL;
      int fds[2];

      g_assert_no_errno (pipe (fds));
      bar = mpire_progress_bar_new (g_variant_new_parsed ("{'desc': <'Squaring'>, "
                                                          "'colour': <'green'>, "
                                                          "'position': <1>}"),
                                    styles[i], fds[1], &error);
      g_assert_no_error (error);
      g_assert_nonnull (bar);
      for (gint64 done = 1; done < 100; done++)
        mpire_progress_bar_update (bar, done, 100);
      mpire_progress_bar_finish (bar, 100, 100);
      close (fds[1]);

      out = read_all (fds[0], 1000);
      close (fds[0]);
      g_assert_null (strchr (out, '\r'));
      g_assert_null (strchr (out, '\033'));
      lines = g_strsplit (out, "\n", -1);
      g_assert_cmpuint (g_strv_length (lines), ==, 3);
      g_assert_true (g_str_has_prefix (lines[0], "Squaring:   1%|"));
      g_assert_true (g_str_has_prefix (lines[1], "Squaring: 100%|"));
      g_assert_nonnull (strstr (lines[1], "| 100/100 ["));
      g_assert_cmpstr (lines[2], ==, "");
    }

  {
    g_autoptr(GError) error = NULL;
    int fds[2];

    g_assert_no_errno (pipe (fds));
    g_assert_null (mpire_progress_bar_new (g_variant_new_parsed ("{'disable': <true>}"), NULL,
                                           fds[1], &error));
    g_assert_no_error (error);
    close (fds[0]);
    close (fds[1]);
  }
}

static void
test_bad_options (void)
{
  const char *bad[] = {
    "{'desk': <'typo'>}",
    "{'colour': <'mauve'>}",
    "{'position': <-1>}",
    "{'desc': <42>}",
    "{'disable': <'yes'>}",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      int master;
      MpireProgressBar *bar = new_bar (g_variant_new_parsed (bad[i]), &master, &error);

      g_assert_null (bar);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
      close (master);
    }

  /* Styles. */
  {
    g_autoptr(GError) error = NULL;
    int master;

    g_assert_null (new_styled_bar (NULL, "fancy", &master, &error));
    g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
    close (master);
    g_clear_error (&error);
    g_assert_null (new_styled_bar (NULL, "notebook", &master, &error));
    g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED);
    close (master);
    g_clear_error (&error);
    /* Progress on the dashboard only: no bar here, no error. */
    g_assert_null (new_styled_bar (NULL, "dashboard", &master, &error));
    g_assert_no_error (error);
    close (master);
  }

  /* Disabled: no bar, no error. */
  {
    g_autoptr(GError) error = NULL;
    int master;

    g_assert_null (new_bar (g_variant_new_parsed ("{'disable': <true>}"), &master, &error));
    g_assert_no_error (error);
    close (master);
  }
}

int
main (int argc, char **argv)
{
  /* Unicode bars, whatever the test's locale. */
  g_setenv ("CHARSET", "UTF-8", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/progress-bar/render/known-total", test_render_known_total);
  g_test_add_func ("/mpire/progress-bar/render/rich", test_render_rich);
  g_test_add_func ("/mpire/progress-bar/render/unknown-total", test_render_unknown_total);
  g_test_add_func ("/mpire/progress-bar/draw-in-place", test_draw_in_place);
  g_test_add_func ("/mpire/progress-bar/draw-position", test_draw_position);
  g_test_add_func ("/mpire/progress-bar/failed-map", test_failed_map);
  g_test_add_func ("/mpire/progress-bar/not-a-terminal", test_not_a_terminal);
  g_test_add_func ("/mpire/progress-bar/bad-options", test_bad_options);

  return g_test_run ();
}
