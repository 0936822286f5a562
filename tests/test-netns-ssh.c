/* test-netns-ssh.c: workers on other "hosts" through ssh: network
 * namespaces of this machine, each with an sshd, which
 * tests/test-netns-ssh.sh makes and describes in the environment:
 *
 *   MPIRE_TEST_SSH        the ssh command up to the address (shell words)
 *   MPIRE_TEST_HOSTS      the namespaces' addresses, space-separated
 *   MPIRE_TEST_NETNS      the namespaces' names, in the same order
 *   MPIRE_TEST_LIBDIR     the build tree's library directory
 *
 * The binary is also the worker: the pool runs it again on each host
 * through ssh, from the same path (one file system), as
 * `env LD_LIBRARY_PATH=LIBDIR THIS --mark MARK`: the worker-argv that a
 * program whose library is not where the other side looks needs.
 *
 * The tests kill the hosts: run them in this order, on fresh hosts.
 *
 * SPDX-License-Identifier: MIT
 */

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpire.h"
#include "test-util.h"

/* Words with spaces and shell characters, which must reach the worker
 * as one argument although ssh joins its arguments into a command line. */
#define MARK "two words, 'single' \"double\" $HOME; |& *"

static MpireTask *square_task, *where_task, *slow_task;
static const char *worker_mark;
static char **ssh_prefix, **hosts, **netns;

static GVariant *
square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);

  return g_variant_new_int64 (x * x);
}

/* Where the worker runs: its network namespace, the mark and library
 * path it was given, its id. */
static GVariant *
where (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_autofree char *ns = g_file_read_link ("/proc/self/ns/net", error);

  if (ns == NULL)
    return NULL;
  return g_variant_new ("(sssi)", ns, worker_mark != NULL ? worker_mark : "",
                        g_getenv ("LD_LIBRARY_PATH") != NULL ? g_getenv ("LD_LIBRARY_PATH") : "",
                        mpire_worker_context_get_worker_id (ctx));
}

/* Its argument back, after a millisecond: a map long enough to kill a
 * host in its middle. */
static GVariant *
slow (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  g_usleep (1000);
  return g_variant_new_int64 (g_variant_get_int64 (args));
}

static void
assert_squares (GVariant *result,
                gint64    n)
{
  gsize len;
  const gint64 *values;

  g_assert_nonnull (result);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ax");
  values = g_variant_get_fixed_array (result, &len, sizeof (gint64));
  g_assert_cmpuint (len, ==, n);
  for (gint64 i = 0; i < n; i++)
    if (values[i] != i * i)
      g_error ("result %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT, i, values[i]);
}

/* The launcher of host @i: ssh ... ADDRESS. */
static GVariant *
ssh_launcher (guint i)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) argv = NULL;

  g_strv_builder_addv (builder, (const char **) ssh_prefix);
  g_strv_builder_add (builder, hosts[i]);
  argv = g_strv_builder_end (builder);
  return g_variant_new_strv ((const char * const *) argv, -1);
}

static GVariant *
local_launcher (void)
{
  return g_variant_new_strv (NULL, 0);
}

/* A pool whose worker i takes launchers[i]. */
static MpireWorkerPool *
ssh_pool (GVariant **launchers,
          guint      n)
{
  MpireWorkerPool *pool = mpire_worker_pool_new (0, MPIRE_START_METHOD_SPAWN);
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *library_path = g_strconcat ("LD_LIBRARY_PATH=", g_getenv ("MPIRE_TEST_LIBDIR"),
                                               NULL);
  const char *worker_argv[] = { "env", library_path, self, "--mark", MARK, NULL };

  mpire_worker_pool_set_worker_launchers (pool, g_variant_new_array (G_VARIANT_TYPE ("as"),
                                                                     launchers, n));
  mpire_worker_pool_set_worker_argv (pool, worker_argv);
  return pool;
}

/* The namespace of @name as /proc/PID/ns/net names it. */
static char *
netns_link (const char *name)
{
  g_autofree char *path = g_strconcat ("/run/netns/", name, NULL);
  struct stat st;

  g_assert_cmpint (stat (path, &st), ==, 0);
  return g_strdup_printf ("net:[%lu]", (unsigned long) st.st_ino);
}

/* Runs `where` on every worker (chunks of one: each worker gets some)
 * and checks each ran in the namespace its launcher says, with the mark
 * and the library path whole. @remote_from: the first worker id on a
 * host; worker i >= @remote_from is on host (i - remote_from) % 2. */
static void
assert_placed (MpireWorkerPool *pool,
               int              n_workers,
               int              remote_from)
{
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *here = g_file_read_link ("/proc/self/ns/net", NULL);
  g_autofree char *libdir = g_strconcat (g_getenv ("MPIRE_TEST_LIBDIR"), NULL);
  char *there[2] = { netns_link (netns[0]), netns_link (netns[1]) };
  gboolean seen_here = FALSE, seen_there[2] = { FALSE, FALSE };

  mpire_worker_pool_set_pass_worker_id (pool, TRUE);
  mpire_map_options_set_chunk_size (options, 1);
  result = mpire_worker_pool_map (pool, where_task, range_variant (40 * n_workers), options,
                                  NULL, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < g_variant_n_children (result); i++)
    {
      const char *ns, *mark, *library_path;
      gint32 id;

      g_variant_get_child (result, i, "(&s&s&si)", &ns, &mark, &library_path, &id);
      g_assert_cmpint (id, >=, 0);
      g_assert_cmpint (id, <, n_workers);
      g_assert_cmpstr (mark, ==, MARK);
      g_assert_cmpstr (library_path, ==, libdir);
      if (id < remote_from)
        {
          g_assert_cmpstr (ns, ==, here);
          seen_here = TRUE;
        }
      else
        {
          g_assert_cmpstr (ns, ==, there[(id - remote_from) % 2]);
          seen_there[(id - remote_from) % 2] = TRUE;
        }
    }
  g_assert_cmpstr (there[0], !=, here);
  g_assert_cmpstr (there[1], !=, there[0]);
  /* The workers all run when the map starts: each place gets chunks. */
  g_assert_true (seen_there[0]);
  g_assert_true (seen_there[1]);
  g_assert_true (seen_here == (remote_from > 0));
  g_free (there[0]);
  g_free (there[1]);
}

/* A 100,000-task map on a kept-alive pool of the four @launchers, the
 * first @remote_from of them local: every square, and every worker
 * where its launcher puts it. */
static void
map_on (GVariant *launchers[4],
        int       remote_from)
{
  g_autoptr(MpireWorkerPool) pool = ssh_pool (launchers, 4);
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (100000), NULL, NULL, &error);
  g_assert_no_error (error);
  assert_squares (result, 100000);
  assert_placed (pool, 4, remote_from);
  mpire_worker_pool_stop_and_join (pool, &error);
  g_assert_no_error (error);
}

/* Four workers, two on each host. */
static void
test_map_remote (void)
{
  GVariant *launchers[] = { ssh_launcher (0), ssh_launcher (1), ssh_launcher (0),
                            ssh_launcher (1) };

  map_on (launchers, 0);
}

/* Two local workers and one on each host. */
static void
test_map_mixed (void)
{
  GVariant *launchers[] = { local_launcher (), local_launcher (), ssh_launcher (0),
                            ssh_launcher (1) };

  map_on (launchers, 2);
}

/* Kills every process of namespace @name: its sshd, the sessions, the
 * workers. The ssh clients here see their connections drop. */
static void
kill_host (const char *name)
{
  const char *argv[] = { "ip", "netns", "pids", name, NULL };
  g_autofree char *out = NULL;
  g_auto(GStrv) pids = NULL;
  g_autoptr(GError) error = NULL;
  int status;
  guint n = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                &status, &error);
  g_assert_no_error (error);
  pids = g_strsplit (out, "\n", -1);
  for (guint i = 0; pids[i] != NULL; i++)
    if (*pids[i] != '\0' && kill ((pid_t) g_ascii_strtoll (pids[i], NULL, 10), SIGKILL) == 0)
      n++;
  g_test_message ("killed %u processes in %s", n, name);
  g_assert_cmpuint (n, >, 0);
}

typedef struct
{
  const char *netns;   /* the host to kill */
  gboolean    killed;
  guint       n_died;  /* worker-died signals */
} KillState;

/* A fifth of the way through the map, the host goes. */
static void
on_progress (MpireWorkerPool *pool,
             gint64           done,
             gint64           total,
             KillState       *state)
{
  if (!state->killed && total > 0 && done >= total / 5 && done < total)
    {
      state->killed = TRUE;
      kill_host (state->netns);
    }
}

static void
on_worker_died (MpireWorkerPool *pool,
                int              worker_id,
                const GError    *error,
                KillState       *state)
{
  g_test_message ("worker-died: %s", error != NULL ? error->message : "(no error)");
  state->n_died++;
}

/* Returns the map's result (or %NULL with @error) over @n tasks of
 * `slow`, the host @netns killed along the way. */
static GVariant *
map_killing (MpireWorkerPool *pool,
             const char      *netns_name,
             gboolean         retry,
             gint64           n,
             KillState       *state,
             GError         **error)
{
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  GVariant *result;

  *state = (KillState) { netns_name, FALSE, 0 };
  g_signal_connect (pool, "progress", G_CALLBACK (on_progress), state);
  g_signal_connect (pool, "worker-died", G_CALLBACK (on_worker_died), state);
  mpire_map_options_set_chunk_size (options, 10);
  mpire_map_options_set_retry_on_worker_death (options, retry);
  result = mpire_worker_pool_map_unordered (pool, slow_task, range_variant (n), options, NULL,
                                            error);
  g_assert_true (state->killed);
  return result;
}

/* With retry-on-worker-death, a host lost in the middle of a map loses
 * no task and doubles none: every argument comes back exactly once. */
static void
test_lost_host_retry (void)
{
  GVariant *launchers[] = { ssh_launcher (0), ssh_launcher (1), ssh_launcher (0),
                            ssh_launcher (1) };
  g_autoptr(MpireWorkerPool) pool = ssh_pool (launchers, G_N_ELEMENTS (launchers));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  const gint64 n = 4000;
  g_autofree guint8 *count = g_new0 (guint8, n);
  KillState state;
  gsize len;
  const gint64 *values;

  result = map_killing (pool, netns[0], TRUE, n, &state, &error);
  g_assert_no_error (error);
  values = g_variant_get_fixed_array (result, &len, sizeof (gint64));
  g_assert_cmpuint (len, ==, n);
  for (gsize i = 0; i < len; i++)
    {
      g_assert_cmpint (values[i], >=, 0);
      g_assert_cmpint (values[i], <, n);
      count[values[i]]++;
    }
  for (gint64 i = 0; i < n; i++)
    if (count[i] != 1)
      g_error ("task %" G_GINT64_FORMAT " came back %u times", i, count[i]);
  /* The host's two workers died: the kill hit the map. */
  g_assert_cmpuint (state.n_died, >=, 2);
  mpire_worker_pool_terminate (pool);
}

/* Without retry, the map fails naming the lost host. (The first host
 * is gone already: the second one goes here.) */
static void
test_lost_host_fails (void)
{
  GVariant *launchers[] = { local_launcher (), ssh_launcher (1) };
  g_autoptr(MpireWorkerPool) pool = ssh_pool (launchers, G_N_ELEMENTS (launchers));
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  KillState state;

  result = map_killing (pool, netns[1], FALSE, 4000, &state, &error);
  g_assert_null (result);
  g_assert_nonnull (error);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, hosts[1]));
  g_assert_cmpuint (state.n_died, >=, 1);
  /* The worker dies in a task, which the error names; or, were it
   * between two chunks then, its replacement cannot reach the host. */
  if (g_error_matches (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_DIED))
    g_assert_nonnull (strstr (error->message, "“slow”"));
  else
    g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START);
  mpire_worker_pool_terminate (pool);
}

int
main (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;

  if (argc > 2 && g_str_equal (argv[1], "--mark"))
    worker_mark = argv[2];

  square_task = mpire_task_new ("square", square, NULL, NULL);
  where_task = mpire_task_new ("where", where, NULL, NULL);
  slow_task = mpire_task_new ("slow", slow, NULL, NULL);

  mpire_init (&argc, &argv);

  g_test_init (&argc, &argv, NULL);

  if (g_getenv ("MPIRE_TEST_SSH") == NULL || g_getenv ("MPIRE_TEST_HOSTS") == NULL ||
      g_getenv ("MPIRE_TEST_NETNS") == NULL || g_getenv ("MPIRE_TEST_LIBDIR") == NULL)
    {
      g_printerr ("test-netns-ssh: run it through tests/test-netns-ssh.sh, which makes the hosts\n");
      return 77;
    }
  if (!g_shell_parse_argv (g_getenv ("MPIRE_TEST_SSH"), NULL, &ssh_prefix, &error))
    g_error ("MPIRE_TEST_SSH: %s", error->message);
  hosts = g_strsplit (g_getenv ("MPIRE_TEST_HOSTS"), " ", -1);
  netns = g_strsplit (g_getenv ("MPIRE_TEST_NETNS"), " ", -1);
  g_assert_cmpuint (g_strv_length (hosts), ==, 2);
  g_assert_cmpuint (g_strv_length (netns), ==, 2);

  g_test_add_func ("/mpire/netns-ssh/map/remote", test_map_remote);
  g_test_add_func ("/mpire/netns-ssh/map/mixed", test_map_mixed);
  g_test_add_func ("/mpire/netns-ssh/lost-host/retry", test_lost_host_retry);
  g_test_add_func ("/mpire/netns-ssh/lost-host/fails", test_lost_host_fails);

  return g_test_run ();
}
