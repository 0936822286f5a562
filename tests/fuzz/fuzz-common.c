/* fuzz-common.c: what the libFuzzer targets of tests/fuzz share
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz-common.h"

void
fuzz_init (int    *argc,
           char ***argv)
{
  /* GSlice reads G_SLICE once, maybe already in a constructor: only a
   * fresh process is sure to allocate GVariants with malloc. */
  if (g_strcmp0 (getenv ("G_SLICE"), "always-malloc") != 0)
    {
      setenv ("G_SLICE", "always-malloc", TRUE);
      execv ("/proc/self/exe", *argv);
      g_error ("Could not re-execute the fuzzer with G_SLICE=always-malloc: %s",
               g_strerror (errno));
    }

  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}

gboolean
fuzz_avoid_known (void)
{
  return g_strcmp0 (getenv ("FUZZ_AVOID_KNOWN"), "1") == 0;
}

guint8
fuzz_take_u8 (FuzzInput *in)
{
  guint8 value = 0;

  if (in->len > 0)
    {
      value = in->data[0];
      in->data++;
      in->len--;
    }
  return value;
}

guint16
fuzz_take_u16 (FuzzInput *in)
{
  guint16 value = fuzz_take_u8 (in);

  return value | (guint16) fuzz_take_u8 (in) << 8;
}

guint32
fuzz_take_u32 (FuzzInput *in)
{
  guint32 value = fuzz_take_u16 (in);

  return value | (guint32) fuzz_take_u16 (in) << 16;
}

guint64
fuzz_take_u64 (FuzzInput *in)
{
  guint64 value = fuzz_take_u32 (in);

  return value | (guint64) fuzz_take_u32 (in) << 32;
}

GBytes *
fuzz_take_bytes (FuzzInput *in,
                 gsize      len)
{
  GBytes *bytes;

  len = MIN (len, in->len);
  bytes = g_bytes_new (in->data, len);
  in->data += len;
  in->len -= len;
  return bytes;
}

/* The types of the values the pool and its workers usually exchange. */
static const char * const usual_types[] = {
  "x", "i", "y", "d", "b", "s", "v", "()", "(ii)", "(xd)", "(yx)", "(iy)", "(ti)",
  "(sv)", "{yy}", "mx", "ms", "ay", "ax", "ai", "ad", "as", "av", "a{sv}", "a(ii)",
  "aay", "aax", "(xxxxxta(xs))",
};

GVariantType *
fuzz_take_type (FuzzInput *in)
{
  guint8 choice = fuzz_take_u8 (in);
  guint8 len;
  g_autofree char *string = NULL;

  if (choice < G_N_ELEMENTS (usual_types) || in->len == 0)
    return g_variant_type_new (usual_types[choice % G_N_ELEMENTS (usual_types)]);

  len = fuzz_take_u8 (in);
  len = MIN (len, in->len);
  string = g_strndup ((const char *) in->data, len);
  in->data += len;
  in->len -= len;
  if (!g_variant_type_string_is_valid (string) ||
      !g_variant_type_is_definite (G_VARIANT_TYPE (string)))
    return g_variant_type_copy (G_VARIANT_TYPE_VARIANT);
  return g_variant_type_new (string);
}

GVariant *
fuzz_variant_from_bytes (const GVariantType *type,
                         GBytes             *bytes)
{
  return g_variant_new_from_bytes (type, bytes, FALSE);
}

void
fuzz_touch_variant (GVariant *value)
{
  g_autoptr(GVariant) normal = NULL;
  g_autofree char *text = NULL;

  if (value == NULL)
    return;
  normal = g_variant_get_normal_form (value);
  text = g_variant_print (value, TRUE);
  g_assert (g_variant_is_normal_form (normal));
  g_assert (g_variant_get_size (normal) == 0 || g_variant_get_data (normal) != NULL);
}

/* Reads the elements of an array of tasks or results, unboxed. */
static void
touch_array (GVariant *array,
             gboolean  boxed)
{
  gsize n = g_variant_n_children (array);

  for (gsize i = 0; i < MIN (n, 64); i++)
    {
      g_autoptr(GVariant) child = g_variant_get_child_value (array, i);
      g_autoptr(GVariant) element = boxed ? g_variant_get_variant (child) : g_variant_ref (child);

      fuzz_touch_variant (element);
    }
}

gboolean
fuzz_consume_message (MpireMessageKind  kind,
                      GVariant         *body)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;

  switch (kind)
    {
    case MPIRE_MESSAGE_HELLO:
      {
        g_auto(MpireHelloMessage) msg = { 0 };

        if ((ok = mpire_message_hello_parse (body, &msg, &error)))
          fuzz_touch_variant (msg.shared_objects);
      }
      break;
    case MPIRE_MESSAGE_TASKS:
      {
        g_auto(MpireTasksMessage) msg = { 0 };

        ok = mpire_message_tasks_parse (body, &msg, &error);
        if (msg.task_name != NULL)
          g_assert (strlen (msg.task_name) < g_variant_get_size (body) + 1);
        if (ok)
          touch_array (msg.args, msg.boxed);
      }
      break;
    case MPIRE_MESSAGE_STOP:
      ok = mpire_message_stop_parse (body, &error);
      break;
    case MPIRE_MESSAGE_RESULTS:
    case MPIRE_MESSAGE_PARTIAL:
      {
        g_auto(MpireResultsMessage) msg = { 0 };

        ok = kind == MPIRE_MESSAGE_RESULTS ? mpire_message_results_parse (body, &msg, &error)
                                           : mpire_message_partial_parse (body, &msg, &error);
        if (ok)
          touch_array (msg.results, msg.boxed);
      }
      break;
    case MPIRE_MESSAGE_ERROR:
      {
        g_auto(MpireErrorMessage) msg = { 0 };

        if ((ok = mpire_message_error_parse (body, &msg, &error)))
          {
            g_quark_try_string (msg.domain);
            g_assert (strlen (msg.message) + strlen (msg.task_name) < 2 * g_variant_get_size (body) + 2);
            touch_array (msg.results, msg.boxed);
          }
      }
      break;
    case MPIRE_MESSAGE_CONFIG:
      {
        MpireConfigMessage msg = { 0 };

        if ((ok = mpire_message_config_parse (body, &msg, &error)))
          g_assert ((msg.worker_init == NULL || *msg.worker_init != '\0') &&
                    (msg.worker_exit == NULL || *msg.worker_exit != '\0'));
      }
      break;
    case MPIRE_MESSAGE_EXIT_RESULT:
      {
        g_auto(MpireExitResultMessage) msg = { 0 };

        if ((ok = mpire_message_exit_result_parse (body, &msg, &error)))
          fuzz_touch_variant (msg.result);
      }
      break;
    case MPIRE_MESSAGE_FAILED:
      {
        MpireFailedMessage msg = { 0 };

        if ((ok = mpire_message_failed_parse (body, &msg, &error)))
          g_assert (msg.stage == MPIRE_LIFECYCLE_STAGE_INIT ||
                    msg.stage == MPIRE_LIFECYCLE_STAGE_EXIT);
      }
      break;
    case MPIRE_MESSAGE_INSIGHTS:
      {
        MpireInsightsMessage msg = { 0 };

        if ((ok = mpire_message_insights_parse (body, &msg, &error)))
          {
            g_assert (msg.n_top <= MPIRE_MESSAGE_INSIGHTS_MAX_TOP);
            for (guint i = 0; i < msg.n_top; i++)
              g_assert (strlen (msg.top[i].args) < g_variant_get_size (body) + 1);
          }
      }
      break;
    case MPIRE_MESSAGE_READY:
      {
        MpireReadyMessage msg = { 0 };

        if ((ok = mpire_message_ready_parse (body, &msg, &error)))
          g_assert (strlen (msg.version) + strlen (msg.host) + strlen (msg.pid) <
                    3 * g_variant_get_size (body) + 3);
      }
      break;
    case MPIRE_MESSAGE_BEAT:
      {
        MpireBeatMessage msg = { 0 };

        ok = mpire_message_beat_parse (body, &msg, &error);
      }
      break;
    case MPIRE_MESSAGE_LAST:
    default:
      g_assert_not_reached ();
    }

  g_assert (ok == (error == NULL));
  return ok;
}

void
fuzz_split_frames (const guint8 *data,
                   gsize         size,
                   FuzzFrames   *frames)
{
  FuzzInput in = { data, size };
  gsize ring_len = fuzz_take_u16 (&in);

  frames->ring = in.data;
  frames->ring_len = MIN (ring_len, in.len);
  frames->stream = in.data + frames->ring_len;
  frames->stream_len = in.len - frames->ring_len;
}
