/* test-launcher-argv.c: the command line that starts a worker through a
 * launcher, and what a remote shell makes of it when the launcher is ssh
 *
 * SPDX-License-Identifier: MIT
 */

#include <string.h>

#include <glib.h>

#include "mpire-backend-private.h"

/* Words that a shell would split or read as syntax. */
static const char * const awkward[] = {
  "/path with spaces/worker", "--mark", "two words", "it's", "\"double\"", "$HOME", "a;b|c&d",
  "*", "~", "", "back\\slash", "new\nline", "tab\there", "x=1", "plain-word_1.0,@%+:", NULL
};

static void
test_not_joined (void)
{
  const char * const launcher[] = { "srun", "--nodes=1", NULL };
  g_auto(GStrv) argv = mpire_launcher_argv (launcher, awkward);
  guint n = g_strv_length ((char **) awkward);

  /* srun (like sh -c 'exec "$0" "$@"') passes each word as it is. */
  g_assert_cmpuint (g_strv_length (argv), ==, 4 + n);
  g_assert_cmpstr (argv[0], ==, "srun");
  g_assert_cmpstr (argv[1], ==, "--nodes=1");
  g_assert_cmpstr (argv[2], ==, "env");
  g_assert_cmpstr (argv[3], ==, "MPIRE_WORKER_LAUNCHED=1");
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (argv[4 + i], ==, awkward[i]);
}

/* What ssh does with its arguments after the host: joins them with
 * spaces, and the remote user's shell runs the line. Here /bin/sh reads
 * it locally, as the arguments of `set --`, and prints each word it got
 * as LENGTH:WORD. */
static GStrv
as_remote_shell_sees (char **words)
{
  g_autofree char *line = g_strjoinv (" ", words);
  g_autofree char *script = g_strconcat ("set -- ", line,
                                         "; for w; do printf '%d:%s' \"${#w}\" \"$w\"; done",
                                         NULL);
  const char *sh[] = { "/bin/sh", "-c", script, NULL };
  const char *env[] = { "LC_ALL=C", "HOME=/home/someone", NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *seen = g_ptr_array_new ();
  int status;

  g_spawn_sync (NULL, (char **) sh, (char **) env, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  for (const char *p = out; *p != '\0';)
    {
      char *colon;
      guint64 len = g_ascii_strtoull (p, &colon, 10);

      g_assert_cmpint (*colon, ==, ':');
      g_ptr_array_add (seen, g_strndup (colon + 1, len));
      p = colon + 1 + len;
    }
  g_ptr_array_add (seen, NULL);
  return (GStrv) g_ptr_array_free (seen, FALSE);
}

static void
test_ssh (void)
{
  const char * const launcher[] = { "/usr/bin/ssh", "-o", "BatchMode=yes", "node1", NULL };
  g_auto(GStrv) argv = mpire_launcher_argv (launcher, awkward);
  g_auto(GStrv) seen = NULL;

  /* The launcher's own words stay as written; plain words unquoted. */
  g_assert_cmpstr (argv[0], ==, "/usr/bin/ssh");
  g_assert_cmpstr (argv[3], ==, "node1");
  g_assert_cmpstr (argv[4], ==, "env");
  g_assert_cmpstr (argv[5], ==, "MPIRE_WORKER_LAUNCHED=1");
  g_assert_cmpstr (argv[7], ==, "--mark");
  g_assert_cmpstr (argv[8], !=, "two words");

  seen = as_remote_shell_sees (argv + 4);
  g_assert_cmpstr (seen[0], ==, "env");
  g_assert_cmpstr (seen[1], ==, "MPIRE_WORKER_LAUNCHED=1");
  g_assert_cmpstrv (seen + 2, awkward);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/launcher-argv/not-joined", test_not_joined);
  g_test_add_func ("/mpire/launcher-argv/ssh", test_ssh);

  return g_test_run ();
}
