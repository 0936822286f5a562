/* test-malformed.c: what a worker sends is data from another process:
 * results not in normal form, frames too large, reports out of range.
 * None crashes the caller; each fails the call or is read as GVariant
 * reads it, and the pool goes on. On one start method (--start-method).
 *
 * SPDX-License-Identifier: MIT
 */

#include <dirent.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mpire.h"
#include "mpire-protocol-private.h"

#include "test-pool-util.h"

MpireStartMethod start_method = MPIRE_START_METHOD_SPAWN;

static MpireTask *odd_task, *odd_chunk_task, *frame_task, *late_frame_task, *square_task;

static gboolean
is_process_method (void)
{
  return start_method != MPIRE_START_METHOD_THREADING;
}

/* Values of @type whose bytes are not in normal form. */
static GVariant *
odd_value (gint64 which)
{
  static const guint8 bytes[] = { 2, 0, 0, 0, 0, 0, 0, 0, 'a', 'b' };

  switch (which)
    {
    case 0:  /* an int32 of 2 bytes */
      return g_variant_new_from_data (G_VARIANT_TYPE_INT32, bytes, 2, FALSE, NULL, NULL);
    case 1:  /* a boolean of value 2 */
      return g_variant_new_from_data (G_VARIANT_TYPE_BOOLEAN, bytes, 1, FALSE, NULL, NULL);
    case 2:  /* a string without its nul */
      return g_variant_new_from_data (G_VARIANT_TYPE_STRING, bytes + 8, 2, FALSE, NULL, NULL);
    case 3:  /* an `ai` of 5 bytes */
      return g_variant_new_from_data (G_VARIANT_TYPE ("ai"), bytes, 5, FALSE, NULL, NULL);
    default: /* an int64 of no bytes at all */
      return g_variant_new_from_data (G_VARIANT_TYPE_INT64, NULL, 0, FALSE, NULL, NULL);
    }
}

static GVariant *
odd (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  return odd_value (g_variant_get_int64 (args) % 5);
}

/* A whole chunk in, an `ax` of 12 bytes out: one element and a half. */
static GVariant *
odd_chunk (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  static const guint8 bytes[12] = { 7 };

  return g_variant_new_from_data (G_VARIANT_TYPE ("ax"), bytes, sizeof bytes, FALSE, NULL, NULL);
}

/* The worker's end of its channel: its only socket. */
static int
channel_fd (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      int fd = atoi (name);
      struct stat st;

      if (fstat (fd, &st) == 0 && S_ISSOCK (st.st_mode))
        return fd;
    }
  return -1;
}

/* Writes the frame the shared objects name to the channel, then waits
 * to be killed. */
static GVariant *
write_frame (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  GVariant *shared = mpire_worker_context_get_shared_objects (ctx);
  const char *which = "";
  g_autoptr(GBytes) frame = NULL;
  int fd = channel_fd ();

  g_assert_cmpint (fd, >=, 0);
  g_variant_lookup (shared, "frame", "&s", &which);
  if (g_str_equal (which, "oversized"))
    {
      guint8 header[MPIRE_FRAME_HEADER_SIZE] = { 0xf0, 0xff, 0xff, 0xff, MPIRE_MESSAGE_RESULTS,
                                                 MPIRE_FRAME_MAGIC, 0, 0 };

      frame = g_bytes_new (header, sizeof header);
    }
  else
    {
      MpireInsightsMessage msg = {
        .ready_at = G_MAXINT64, .init_time = G_MAXINT64, .waiting_time = G_MAXINT64,
        .working_time = G_MAXINT64, .exit_time = G_MININT64, .n_completed = G_MAXUINT64,
      };

      g_assert_cmpstr (which, ==, "insights");
      frame = mpire_frame_encode (MPIRE_MESSAGE_INSIGHTS, mpire_message_insights_new (&msg),
                                  NULL, NULL);
    }
  g_assert_true (mpire_frame_write (fd, frame, NULL));
  for (;;)
    g_usleep (G_USEC_PER_SEC);
  return NULL;
}

static gpointer
write_oversized_later (gpointer data)
{
  guint8 header[MPIRE_FRAME_HEADER_SIZE] = { 0xf0, 0xff, 0xff, 0xff, MPIRE_MESSAGE_RESULTS,
                                             MPIRE_FRAME_MAGIC, 0, 0 };
  g_autoptr(GBytes) frame = g_bytes_new (header, sizeof header);

  g_usleep (G_USEC_PER_SEC / 5);
  mpire_frame_write (GPOINTER_TO_INT (data), frame, NULL);
  return NULL;
}

/* x*x, and an oversized frame 0.2 s later, from a thread of the worker:
 * when no call runs, if the call was quick. Only worker 0 does. */
static GVariant *
square_then_garbage (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);

  if (x == 0 && mpire_worker_context_get_worker_id (ctx) == 0)
    g_thread_unref (g_thread_new ("garbage", write_oversized_later,
                                  GINT_TO_POINTER (channel_fd ())));
  return g_variant_new_int64 (x * x);
}

static void
assert_pool_works (MpireWorkerPool *pool)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = mpire_worker_pool_map (pool, square_task, range_variant (20),
                                                      NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (result), ==, 20);
}

/* Results not in normal form come as their normal form, which has the
 * value GVariant reads from their bytes; no worker dies of them. */
static void
test_results_not_normal (void)
{
  g_autoptr(MpireWorkerPool) pool = test_pool_new (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  mpire_map_options_set_chunk_size (options, 3);
  result = mpire_worker_pool_map (pool, odd_task, range_variant (20), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_variant_n_children (result), ==, 20);
  for (gsize i = 0; i < 20; i++)
    {
      g_autoptr(GVariant) box = g_variant_get_child_value (result, i);
      g_autoptr(GVariant) value = g_variant_get_variant (box);
      g_autoptr(GVariant) odd_one = g_variant_ref_sink (odd_value (i % 5));
      g_autoptr(GVariant) expected = g_variant_get_normal_form (odd_one);

      g_assert_true (g_variant_is_normal_form (value));
      g_assert_true (g_variant_equal (value, expected));
    }
  assert_pool_works (pool);
}

/* Arrays of a chunk task, concatenated: only their whole elements. */
static void
test_chunk_arrays_not_normal (void)
{
  g_autoptr(MpireWorkerPool) pool = test_pool_new (2);
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;

  mpire_map_options_set_array_chunks (options, TRUE);
  mpire_map_options_set_chunk_size (options, 4);
  result = mpire_worker_pool_map (pool, odd_chunk_task, range_variant (20), options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (result), ==, "ax");
  /* Each `ax` of 12 bytes is an empty array to GVariant. */
  g_assert_cmpuint (g_variant_n_children (result), ==, 0);
  assert_pool_works (pool);
}

typedef struct
{
  gint64 next;
  gint64 end;
} Counter;

static GVariant *
count_up (gpointer data, GError **error)
{
  Counter *counter = data;

  return counter->next < counter->end ? g_variant_new_int64 (counter->next++) : NULL;
}

static void
assert_squares (GVariant *result,
                gint64    n)
{
  g_assert_nonnull (result);
  g_assert_cmpuint (g_variant_n_children (result), ==, n);
  for (gint64 i = 0; i < n; i++)
    {
      gint64 v;

      g_variant_get_child (result, i, "x", &v);
      g_assert_cmpint (v, ==, i * i);
    }
}

/* Chunk sizes, splits, limits and lengths up to G_MAXINT64 neither
 * overflow nor allocate by what they declare. */
static void
test_huge_sizes (void)
{
  g_autoptr(MpireWorkerPool) pool = test_pool_new (2);
  const gint64 huge[] = { G_MAXINT64, G_MAXINT64 / 2 + 1, (gint64) G_MAXUINT32 + 2 };

  for (gsize i = 0; i < G_N_ELEMENTS (huge); i++)
    for (int what = 0; what < 4; what++)
      {
        g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
        g_autoptr(GError) error = NULL;
        g_autoptr(GVariant) result = NULL;
        Counter counter = { 0, 30 };

        if (what == 0)
          mpire_map_options_set_chunk_size (options, huge[i]);
        else if (what == 1)
          mpire_map_options_set_n_splits (options, huge[i]);
        else if (what == 2)
          mpire_map_options_set_max_tasks_active (options, huge[i]);
        else
          mpire_map_options_set_iterable_len (options, huge[i]);
        result = mpire_worker_pool_map (pool, square_task, range_variant (30), options, NULL,
                                        &error);
        g_assert_no_error (error);
        assert_squares (result, 30);
        g_clear_pointer (&result, g_variant_unref);

        /* From a lazy source of 30 tasks, the length said or not. */
        mpire_map_options_set_source (options, count_up, &counter, NULL);
        if (what != 3)
          mpire_map_options_set_iterable_len (options, 30);
        result = mpire_worker_pool_map (pool, square_task, NULL, options, NULL, &error);
        g_assert_no_error (error);
        assert_squares (result, 30);
      }
}

/* A frame from a worker that breaks the protocol fails the call; the
 * next call of a kept-alive pool has fresh workers. */
static void
test_bad_frames (gconstpointer data)
{
  const char *which = data;
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint64 start;

  if (!is_process_method ())
    {
      g_test_skip ("A thread’s channel is one socket among the caller’s");
      return;
    }

  pool = test_pool_new (2);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  mpire_worker_pool_set_enable_insights (pool, TRUE);
  mpire_worker_pool_set_shared_objects (pool, g_variant_new_parsed ("{'frame': <%s>}", which));
  result = mpire_worker_pool_map (pool, frame_task, range_variant (4), options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
  g_test_message ("%s: %s", which, error->message);

  /* Far less than the 30 s it once took. */
  start = g_get_monotonic_time ();
  assert_pool_works (pool);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_true (mpire_worker_pool_stop_and_join (pool, NULL));
}

/* A kept-alive worker that breaks the protocol between two calls is
 * replaced: the next call runs on fresh workers, at once. */
static void
test_bad_frame_between_calls (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) result = NULL;
  gint64 start;

  if (!is_process_method ())
    {
      g_test_skip ("A thread’s channel is one socket among the caller’s");
      return;
    }

  pool = mpire_worker_pool_new (2, start_method);
  mpire_worker_pool_set_keep_alive (pool, TRUE);
  result = mpire_worker_pool_map (pool, late_frame_task, range_variant (4), NULL, NULL, &error);
  g_assert_no_error (error);
  g_usleep (G_USEC_PER_SEC / 2);

  start = g_get_monotonic_time ();
  assert_pool_works (pool);
  assert_pool_works (pool);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
  g_assert_true (mpire_worker_pool_stop_and_join (pool, NULL));
}

int
main (int argc, char **argv)
{
  g_autoptr(GEnumClass) methods = NULL;
  const char *nick;
  g_autofree char *path = NULL;

  odd_task = mpire_task_new ("odd", odd, NULL, NULL);
  odd_chunk_task = mpire_task_new ("odd-chunk", odd_chunk, NULL, NULL);
  frame_task = mpire_task_new ("write-frame", write_frame, NULL, NULL);
  late_frame_task = mpire_task_new ("square-then-garbage", square_then_garbage, NULL, NULL);
  square_task = mpire_task_new ("square", square, NULL, NULL);

  mpire_init (&argc, &argv);

  parse_start_method (&argc, argv);
  g_test_init (&argc, &argv, NULL);
  methods = g_type_class_ref (MPIRE_TYPE_START_METHOD);
  nick = g_enum_get_value (methods, start_method)->value_nick;

  add_method_test ("/mpire/malformed", "results-not-normal", test_results_not_normal);
  add_method_test ("/mpire/malformed", "chunk-arrays-not-normal", test_chunk_arrays_not_normal);
  add_method_test ("/mpire/malformed", "huge-sizes", test_huge_sizes);
  add_method_test ("/mpire/malformed", "bad-frame-between-calls", test_bad_frame_between_calls);
  path = g_strdup_printf ("/mpire/malformed/oversized-frame/%s", nick);
  g_test_add_data_func (path, "oversized", test_bad_frames);
  g_free (path);
  path = g_strdup_printf ("/mpire/malformed/insights-out-of-range/%s", nick);
  g_test_add_data_func (path, "insights", test_bad_frames);

  return g_test_run ();
}
