/* make-corpus.c: writes the seed corpus of the fuzz targets
 *
 * Usage: fuzz-make-corpus DIR (tests/fuzz/corpus): writes DIR/TARGET/NAME
 * for each seed, small valid inputs in each target's input format (see
 * the comment at the top of each fuzz-TARGET.c), built with the
 * library's own message constructors.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "mpire-insights-private.h"
#include "mpire-protocol-private.h"

static const char *out_dir;

static void
write_seed (const char *target,
            const char *name,
            GByteArray *bytes)
{
  g_autofree char *dir = g_build_filename (out_dir, target, NULL);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (dir, 0755);
  if (!g_file_set_contents (path, (const char *) bytes->data, bytes->len, &error))
    g_error ("%s", error->message);
  g_byte_array_unref (bytes);
}

static void
put_u8 (GByteArray *out,
        guint8      value)
{
  g_byte_array_append (out, &value, 1);
}

static void
put_u16 (GByteArray *out,
         guint16     value)
{
  put_u8 (out, value & 0xff);
  put_u8 (out, value >> 8);
}

static void
put_u32 (GByteArray *out,
         guint32     value)
{
  put_u16 (out, value & 0xffff);
  put_u16 (out, value >> 16);
}

static void
put_u64 (GByteArray *out,
         guint64     value)
{
  put_u32 (out, value & 0xffffffff);
  put_u32 (out, value >> 32);
}

/* A type in fuzz_take_type()'s form: spelled out. */
static void
put_type (GByteArray *out,
          const char *type)
{
  put_u8 (out, 255);
  put_u8 (out, strlen (type));
  g_byte_array_append (out, (const guint8 *) type, strlen (type));
}

/* The serialised bytes of @value (floating, sunk). */
static void
put_value (GByteArray *out,
           GVariant   *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  g_byte_array_append (out, g_variant_get_data (owned), g_variant_get_size (owned));
}

static void
put_sized_value (GByteArray *out,
                 GVariant   *value)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (value);

  put_u16 (out, g_variant_get_size (owned));
  put_value (out, g_variant_ref (owned));
}

static void
put_frame (GByteArray       *out,
           MpireMessageKind  kind,
           GVariant         *body)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (kind, body, NULL, NULL);

  g_byte_array_append (out, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

/* A frame whose body is at @position of the shared ring. */
static void
put_shared_frame (GByteArray       *out,
                  MpireMessageKind  kind,
                  guint64           position,
                  guint32           len)
{
  put_u32 (out, MPIRE_FRAME_SHARED_REF_SIZE);
  put_u8 (out, kind);
  put_u8 (out, MPIRE_FRAME_MAGIC);
  put_u8 (out, MPIRE_FRAME_SHARED);
  put_u8 (out, 0);
  put_u64 (out, position);
  put_u32 (out, len);
}

static GVariant *
hello (gboolean  extras,
       GVariant *shared_objects)
{
  return mpire_message_hello_new (&(MpireHelloMessage) { 3, extras, extras, extras,
                                                         shared_objects });
}

static GVariant *
config (const char *init,
        const char *exit,
        gboolean    extras)
{
  return mpire_message_config_new (&(MpireConfigMessage) { init, exit, extras, extras, extras });
}

static GVariant *
tasks (guint64     id,
       const char *task,
       gboolean    boxed,
       gboolean    whole,
       const char *args)
{
  return mpire_message_tasks_new (&(MpireTasksMessage) { id, task, boxed, whole,
                                                         g_variant_new_parsed (args) });
}

static GVariant *
results (const char *array,
         gboolean    boxed)
{
  return mpire_message_results_new (&(MpireResultsMessage) { 7, boxed,
                                                             g_variant_new_parsed (array) });
}

static GVariant *
insights_report (void)
{
  MpireInsightsMessage msg = { 1000, 20, 30, 400, 5, 12, 2,
                               { { 300, "Arg 0: 5" }, { 100, "Arg 0: 'a'" } } };

  return mpire_message_insights_new (&msg);
}

/* A frames input: the ring's bytes, then frames. */
static GByteArray *
frames_input (GVariant *ring_body)
{
  GByteArray *out = g_byte_array_new ();

  if (ring_body == NULL)
    put_u16 (out, 0);
  else
    put_sized_value (out, ring_body);
  return out;
}

static void
worker_seeds (void)
{
  GByteArray *out;
  g_autoptr(GVariant) ring_tasks = NULL;

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_HELLO, hello (FALSE, NULL));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config (NULL, NULL, FALSE));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (1, "identity", FALSE, FALSE, "[@x 1, 2, 3]"));
  put_frame (out, MPIRE_MESSAGE_STOP, mpire_message_stop_new ());
  write_seed ("worker", "identity-ax", out);

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_HELLO, hello (FALSE, NULL));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config ("identity", "identity", TRUE));
  put_frame (out, MPIRE_MESSAGE_TASKS,
             tasks (1, "identity", TRUE, FALSE, "[<@x 1>, <'a'>, <(2, 3.5)>]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (2, "identity", FALSE, FALSE, "[(1, 2.5), (3, 4.5)]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (3, "fail", FALSE, FALSE, "[@i 1, 2]"));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config (NULL, "fail", TRUE));
  put_frame (out, MPIRE_MESSAGE_STOP, mpire_message_stop_new ());
  write_seed ("worker", "lifecycle-boxed-partial-insights", out);

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_HELLO, hello (TRUE, g_variant_new_parsed ("{'k': <'v'>}")));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config ("fail", NULL, FALSE));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config (NULL, NULL, FALSE));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (1, "shared", FALSE, TRUE, "[@y 1, 2]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (2, "typed", FALSE, FALSE, "[@x 5, 6]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (3, "typed", FALSE, FALSE, "['a']"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (4, "null", FALSE, FALSE, "[@x 1]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (5, "nope", FALSE, FALSE, "[@x 1]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (6, "identity", TRUE, FALSE, "[@x 1]"));
  put_frame (out, MPIRE_MESSAGE_STOP, mpire_message_stop_new ());
  write_seed ("worker", "shared-typed-null-unknown", out);

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_HELLO, hello (FALSE, NULL));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config (NULL, NULL, TRUE));
  put_frame (out, MPIRE_MESSAGE_TASKS,
             tasks (1, "identity", FALSE, FALSE, "[{'a': <1>}, {'b': <'c'>}]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (2, "identity", FALSE, FALSE, "['x', 'yy', 'zzz']"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (3, "identity", FALSE, FALSE, "[[@x 1], [2, 3]]"));
  write_seed ("worker", "variable-size-results-no-stop", out);

  /* A chunk whose body is in the ring. */
  ring_tasks = g_variant_ref_sink (tasks (1, "identity", FALSE, FALSE, "[@x 1, 2, 3, 4]"));
  out = frames_input (g_variant_ref (ring_tasks));
  put_frame (out, MPIRE_MESSAGE_HELLO, hello (FALSE, NULL));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config (NULL, NULL, FALSE));
  put_shared_frame (out, MPIRE_MESSAGE_TASKS, 0, g_variant_get_size (ring_tasks));
  put_frame (out, MPIRE_MESSAGE_STOP, mpire_message_stop_new ());
  write_seed ("worker", "shared-ring-tasks", out);

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (1, "identity", FALSE, FALSE, "[@x 1]"));
  write_seed ("worker", "tasks-before-hello", out);
}

static void
frame_seeds (void)
{
  GByteArray *out;
  g_autoptr(GVariant) ring_results = NULL;

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_HELLO, hello (TRUE, g_variant_new_parsed ("@as ['a']")));
  put_frame (out, MPIRE_MESSAGE_CONFIG, config ("init", "exit", TRUE));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (1, "square", FALSE, FALSE, "[@x 1, 2, 3]"));
  put_frame (out, MPIRE_MESSAGE_TASKS, tasks (2, "square", TRUE, TRUE, "[<1>, <'a'>]"));
  put_frame (out, MPIRE_MESSAGE_STOP, mpire_message_stop_new ());
  write_seed ("frame", "to-worker", out);

  out = frames_input (NULL);
  put_frame (out, MPIRE_MESSAGE_INSIGHTS, insights_report ());
  put_frame (out, MPIRE_MESSAGE_PARTIAL, results ("[@x 1]", FALSE));
  put_frame (out, MPIRE_MESSAGE_RESULTS, results ("[@x 1, 4, 9]", FALSE));
  put_frame (out, MPIRE_MESSAGE_ERROR,
             mpire_message_error_new (&(MpireErrorMessage) {
               8, 1, "g-io-error-quark", 1, "failed", "square", TRUE,
               g_variant_new_parsed ("[<'a'>]") }));
  put_frame (out, MPIRE_MESSAGE_EXIT_RESULT,
             mpire_message_exit_result_new (&(MpireExitResultMessage) {
               g_variant_new_parsed ("(1, 'done')") }));
  put_frame (out, MPIRE_MESSAGE_FAILED,
             mpire_message_failed_new (&(MpireFailedMessage) {
               "g-io-error-quark", 1, "no", "init", MPIRE_LIFECYCLE_STAGE_INIT }));
  write_seed ("frame", "from-worker", out);

  ring_results = g_variant_ref_sink (results ("[(1, 2.5), (2, 3.5)]", FALSE));
  out = frames_input (g_variant_ref (ring_results));
  put_shared_frame (out, MPIRE_MESSAGE_RESULTS, 0, g_variant_get_size (ring_results));
  put_shared_frame (out, MPIRE_MESSAGE_RESULTS, 0, g_variant_get_size (ring_results));
  write_seed ("frame", "shared-results", out);

  out = frames_input (NULL);
  put_u32 (out, 0x7fffffff);
  put_u8 (out, MPIRE_MESSAGE_RESULTS);
  put_u8 (out, MPIRE_FRAME_MAGIC);
  put_u16 (out, 0);
  put_u64 (out, 0);
  write_seed ("frame", "oversized-truncated", out);
}

static void
message_seed (const char       *name,
              MpireMessageKind  kind,
              GVariant         *body)
{
  GByteArray *out = g_byte_array_new ();

  put_u8 (out, kind - 1);
  put_value (out, body);
  write_seed ("message", name, out);
}

static void
message_seeds (void)
{
  message_seed ("hello", MPIRE_MESSAGE_HELLO, hello (TRUE, g_variant_new_parsed ("<1>")));
  message_seed ("hello-no-shared", MPIRE_MESSAGE_HELLO, hello (FALSE, NULL));
  message_seed ("tasks", MPIRE_MESSAGE_TASKS, tasks (1, "t", FALSE, FALSE, "[@x 1, 2]"));
  message_seed ("tasks-boxed", MPIRE_MESSAGE_TASKS,
                tasks (1, "t", TRUE, FALSE, "[<1>, <'s'>, <[1.5]>]"));
  message_seed ("tasks-whole", MPIRE_MESSAGE_TASKS, tasks (1, "t", FALSE, TRUE, "[(1, 'a')]"));
  message_seed ("stop", MPIRE_MESSAGE_STOP, mpire_message_stop_new ());
  message_seed ("results", MPIRE_MESSAGE_RESULTS, results ("[@x 1, 2]", FALSE));
  message_seed ("results-boxed", MPIRE_MESSAGE_RESULTS, results ("[<1>, <'a'>]", TRUE));
  message_seed ("partial", MPIRE_MESSAGE_PARTIAL,
                mpire_message_partial_new (&(MpireResultsMessage) {
                  2, FALSE, g_variant_new_parsed ("['a', 'b']") }));
  message_seed ("error", MPIRE_MESSAGE_ERROR,
                mpire_message_error_new (&(MpireErrorMessage) {
                  8, 1, "g-io-error-quark", 1, "failed", "t", FALSE,
                  g_variant_new_parsed ("[@d 1.5]") }));
  message_seed ("config", MPIRE_MESSAGE_CONFIG, config ("init", "", TRUE));
  message_seed ("exit-result", MPIRE_MESSAGE_EXIT_RESULT,
                mpire_message_exit_result_new (&(MpireExitResultMessage) {
                  g_variant_new_parsed ("{'a': <1>}") }));
  message_seed ("failed", MPIRE_MESSAGE_FAILED,
                mpire_message_failed_new (&(MpireFailedMessage) {
                  "", 0, "m", "exit", MPIRE_LIFECYCLE_STAGE_EXIT }));
  message_seed ("insights", MPIRE_MESSAGE_INSIGHTS, insights_report ());
}

static void
result_buffer_seeds (void)
{
  GByteArray *out;

  /* Fixed-size results kept as bytes, then one of another type. */
  out = g_byte_array_new ();
  for (int i = 0; i < 3; i++)
    {
      put_u8 (out, 0);
      put_type (out, "x");
      put_sized_value (out, g_variant_new_int64 (i));
    }
  put_u8 (out, 2);
  put_u8 (out, 0);
  put_type (out, "(xd)");
  put_sized_value (out, g_variant_new_parsed ("(@x 1, 2.5)"));
  put_u8 (out, 0);
  put_type (out, "s");
  put_sized_value (out, g_variant_new_string ("abc"));
  put_u8 (out, 2);
  write_seed ("result-buffer", "fixed-then-mixed", out);

  /* PARTIAL results kept by the pool, boxed and not. */
  out = g_byte_array_new ();
  put_u8 (out, 1);
  put_type (out, "v");
  put_sized_value (out, g_variant_new_parsed ("[<1>, <'a'>, <@x 2>]"));
  put_u8 (out, 1);
  put_type (out, "i");
  put_sized_value (out, g_variant_new_parsed ("[@i 1, 2, 3]"));
  put_u8 (out, 3);
  put_u8 (out, 1);
  put_type (out, "(ii)");
  put_sized_value (out, g_variant_new_parsed ("[(1, 2), (3, 4)]"));
  write_seed ("result-buffer", "kept-arrays", out);
}

static void
put_array_op (GByteArray *out,
              const char *element_type,
              gboolean    boxed,
              const char *array)
{
  put_u8 (out, 0);
  put_type (out, element_type);
  put_u8 (out, boxed);
  put_sized_value (out, g_variant_new_parsed (array));
}

static void
arrays_seeds (void)
{
  GByteArray *out;

  out = g_byte_array_new ();
  put_array_op (out, "x", FALSE, "[@x 1, 2, 3]");
  put_array_op (out, "x", FALSE, "[@x 4, 5]");
  put_u8 (out, 1);
  put_u32 (out, 1);
  put_u32 (out, 1);
  put_u8 (out, 2);
  write_seed ("arrays", "fixed-size", out);

  out = g_byte_array_new ();
  put_array_op (out, "v", TRUE, "[<1>, <'a'>]");
  put_array_op (out, "s", FALSE, "['b', 'c']");
  put_array_op (out, "(xd)", FALSE, "[(@x 1, 2.5)]");
  put_u8 (out, 2);
  put_u8 (out, 1);
  put_u32 (out, 2);
  put_u32 (out, 3);
  write_seed ("arrays", "boxed-mixed", out);

  out = g_byte_array_new ();
  put_array_op (out, "ax", FALSE, "[[@x 1, 2], [3]]");
  put_u8 (out, 3);
  put_u8 (out, 2);
  write_seed ("arrays", "whole-chunks", out);
}

static void
shared_ring_seeds (void)
{
  GByteArray *out;

  /* Send and take in order, with room for a few bodies. */
  out = g_byte_array_new ();
  put_u8 (out, 16);
  for (int i = 0; i < 4; i++)
    {
      put_u8 (out, 0);
      put_u16 (out, 100 + 50 * i);
    }
  for (int i = 0; i < 3; i++)
    put_u8 (out, 1);
  put_u8 (out, 3);
  put_u8 (out, 1);
  put_u8 (out, 0);
  put_u16 (out, 300);
  put_u8 (out, 1);
  put_u8 (out, 1);
  write_seed ("shared-ring", "in-order", out);

  /* Wrapping around a small ring. */
  out = g_byte_array_new ();
  put_u8 (out, 2);
  for (int i = 0; i < 6; i++)
    {
      put_u8 (out, 0);
      put_u16 (out, 40);
      put_u8 (out, 1);
      put_u8 (out, 3);
      put_u8 (out, 0);
    }
  write_seed ("shared-ring", "wrap", out);

  /* A lying writer. */
  out = g_byte_array_new ();
  put_u8 (out, 4);
  put_u8 (out, 0);
  put_u16 (out, 64);
  put_u8 (out, 2);
  put_u64 (out, G_GUINT64_CONSTANT (1) << 63 | 8);
  put_u32 (out, 64);
  put_u8 (out, 2);
  put_u64 (out, G_MAXUINT64 - 7);
  put_u32 (out, 16);
  put_u8 (out, 1);
  write_seed ("shared-ring", "lying", out);
}

static void
insights_seeds (void)
{
  GByteArray *out = g_byte_array_new ();
  g_autoptr(GVariant) report = g_variant_ref_sink (insights_report ());

  put_u8 (out, 2);
  /* A report as it comes, from worker 0. */
  put_u8 (out, 0);
  put_u8 (out, 2);
  put_u32 (out, 1000);
  put_sized_value (out, g_variant_ref (report));
  /* Figures of any size, from worker 1. */
  put_u8 (out, 1);
  put_u8 (out, 3);
  put_u32 (out, 2000);
  for (int i = 0; i < 6; i++)
    put_u64 (out, 1000 * (i + 1));
  put_u8 (out, 1);
  put_u8 (out, 8);
  put_u64 (out, 500);
  g_byte_array_append (out, (const guint8 *) "Arg 0: 7", 8);
  write_seed ("insights", "two-workers", out);
}

int
main (int   argc,
      char *argv[])
{
  if (argc != 2)
    {
      g_printerr ("Usage: %s DIR\n", argv[0]);
      return EXIT_FAILURE;
    }
  out_dir = argv[1];

  worker_seeds ();
  frame_seeds ();
  message_seeds ();
  result_buffer_seeds ();
  arrays_seeds ();
  shared_ring_seeds ();
  insights_seeds ();
  return EXIT_SUCCESS;
}
