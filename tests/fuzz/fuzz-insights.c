/* fuzz-insights.c: workers' insights reports added up by the pool
 *
 * Input: a byte for whether insights are on and for how many workers,
 * then reports, each a byte then its operands:
 *
 *   0 ID STARTED(u32) LEN(u16) BYTES  a report read from BYTES, as it comes
 *   1 ID STARTED(u32) FIGURES(u64 x6) N_TOP (DURATION(u64) LEN ARGS) x N_TOP
 *                                     a well-formed report of any figures
 *   2 ON_AND_WORKERS                  the figures start again
 *
 * ID is the worker id (minus 2: some are out of range); STARTED, when
 * the worker started, in µs around now (signed), or any time if its top
 * bit is set. Then the pool's table and get_insights() values are made.
 * With FUZZ_AVOID_KNOWN=1, figures are kept below 2^40 (fuzz_avoid_known()).
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>

#include "mpire-insights-private.h"

#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  return 0;
}

static void
reset (MpireInsights *insights,
       FuzzInput     *in)
{
  guint8 byte = fuzz_take_u8 (in);

  mpire_insights_reset (insights, (byte & 0x80) == 0, byte % 9);
}

/* Figures that cannot add up past G_MAXINT64 (FUZZ_AVOID_KNOWN). */
static void
small_figures (MpireInsightsMessage *msg)
{
  const gint64 mask = ((gint64) 1 << 40) - 1;

  msg->ready_at &= mask;
  msg->init_time &= mask;
  msg->waiting_time &= mask;
  msg->working_time &= mask;
  msg->exit_time &= mask;
  msg->n_completed &= mask;
  for (guint i = 0; i < msg->n_top; i++)
    msg->top[i].duration &= mask;
}

static gint64
take_started (FuzzInput *in)
{
  guint32 started = fuzz_take_u32 (in);

  if ((started >> 31) != 0)
    return (gint64) ((guint64) started << 32 | fuzz_take_u32 (in));
  return g_get_monotonic_time () + (gint32) (started << 1) / 2;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size };
  MpireInsights *insights = mpire_insights_new ();

  reset (insights, &in);
  while (in.len > 0)
    {
      guint8 op = fuzz_take_u8 (&in) % 3;
      g_autoptr(GVariant) report = NULL;
      int worker_id;
      gint64 started_at;

      if (op == 2)
        {
          reset (insights, &in);
          continue;
        }

      worker_id = (int) fuzz_take_u8 (&in) - 2;
      started_at = take_started (&in);
      if (op == 0)
        {
          gsize len = fuzz_take_u16 (&in);
          g_autoptr(GBytes) bytes = fuzz_take_bytes (&in, len);

          report = mpire_frame_decode_body (MPIRE_MESSAGE_INSIGHTS, bytes);
          if (fuzz_avoid_known ())
            {
              MpireInsightsMessage msg;
              GVariant *small;

              if (!mpire_message_insights_parse (report, &msg, NULL))
                continue;
              small_figures (&msg);
              small = g_variant_ref_sink (mpire_message_insights_new (&msg));
              g_variant_unref (report);
              report = small;
            }
        }
      else
        {
          MpireInsightsMessage msg = { 0 };
          char *args[MPIRE_MESSAGE_INSIGHTS_MAX_TOP] = { NULL };

          msg.ready_at = fuzz_take_u64 (&in);
          msg.init_time = fuzz_take_u64 (&in);
          msg.waiting_time = fuzz_take_u64 (&in);
          msg.working_time = fuzz_take_u64 (&in);
          msg.exit_time = fuzz_take_u64 (&in);
          msg.n_completed = fuzz_take_u64 (&in);
          msg.n_top = fuzz_take_u8 (&in) % (MPIRE_MESSAGE_INSIGHTS_MAX_TOP + 1);
          for (guint i = 0; i < msg.n_top; i++)
            {
              gsize len = fuzz_take_u8 (&in);

              msg.top[i].duration = fuzz_take_u64 (&in);
              len = MIN (len, in.len);
              args[i] = g_utf8_make_valid ((const char *) in.data, len);
              in.data += len;
              in.len -= len;
              msg.top[i].args = args[i];
            }
          if (fuzz_avoid_known ())
            small_figures (&msg);
          report = g_variant_ref_sink (mpire_message_insights_new (&msg));
          for (guint i = 0; i < msg.n_top; i++)
            g_free (args[i]);
        }
      {
        g_autoptr(GError) error = NULL;
        /* Any offset: the links refuse those of clocks out of range. */
        gint64 clock_offset = (gint64) ((guint64) fuzz_take_u32 (&in) << 32 | fuzz_take_u32 (&in));
        gboolean ok = mpire_insights_add_report (insights, worker_id, started_at, clock_offset,
                                                 report, &error);

        g_assert (ok == (error == NULL));
      }
    }

  {
    g_autoptr(GVariant) values = g_variant_ref_sink (mpire_insights_to_variant (insights));
    g_autofree char *table = mpire_insights_to_string (insights);

    fuzz_touch_variant (values);
    g_assert (g_utf8_validate (table, -1, NULL));
  }
  mpire_insights_free (insights);
  return 0;
}
