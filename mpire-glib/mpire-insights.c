/* mpire-insights.c: worker insights, MPIRE's profile of where the
 * workers' time goes
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
# include <x86intrin.h>
# define HAVE_TSC 1
#endif

#include "mpire-i18n-private.h"

#include "mpire-error.h"
#include "mpire-insights-private.h"
#include "mpire-protocol-private.h"

/* A report carries every longest task the worker keeps. */
G_STATIC_ASSERT (MPIRE_INSIGHTS_TOP <= MPIRE_MESSAGE_INSIGHTS_MAX_TOP);

/* Task arguments are kept as text of at most this many bytes. */
#define ARGS_TEXT_MAX 200

/* The largest time (µs: about 300 years) and count a worker may report;
 * more is a corrupt report. Sums saturate rather than overflow. */
#define MAX_REPORTED_TIME ((gint64) 1 << 53)
#define MAX_REPORTED_TASKS ((guint64) 1 << 53)
/* Between two monotonic clocks (the links refuse larger ones). */
#define MAX_CLOCK_OFFSET ((gint64) 1 << 61)

/* Below this share of working time the table adds a note, as MPIRE. */
#define WORKING_SHARE_NOTE 0.8

/* The parts of a worker's time, in the order of MPIRE's keys. */
typedef enum {
  PART_START_UP,
  PART_INIT,
  PART_WAITING,
  PART_WORKING,
  PART_EXIT,
  N_PARTS
} Part;

static const char * const part_keys[N_PARTS] = {
  "start_up", "init", "waiting", "working", "exit",
};

static Part
part_of (MpireInsightsPart part)
{
  switch (part)
    {
    case MPIRE_INSIGHTS_INIT:
      return PART_INIT;
    case MPIRE_INSIGHTS_WAITING:
      return PART_WAITING;
    case MPIRE_INSIGHTS_EXIT:
    default:
      return PART_EXIT;
    }
}

/* ---- the longest tasks, longest first ------------------------------------ */

typedef struct
{
  gint64    duration;  /* µs */
  char     *args;
  gboolean  reported;  /* the worker sent it to the pool */
} TopTask;

static gboolean
top_takes (const TopTask *top,
           guint          n_top,
           gint64         duration)
{
  return n_top < MPIRE_INSIGHTS_TOP || duration > top[n_top - 1].duration;
}

/* Inserts a task that top_takes(); takes @args. */
static void
top_insert (TopTask *top,
            guint   *n_top,
            gint64   duration,
            char    *args)
{
  guint i;

  if (*n_top == MPIRE_INSIGHTS_TOP)
    g_free (top[--*n_top].args);
  for (i = *n_top; i > 0 && top[i - 1].duration < duration; i--)
    top[i] = top[i - 1];
  top[i] = (TopTask) { duration, args, FALSE };
  ++*n_top;
}

static void
top_clear (TopTask *top,
           guint   *n_top)
{
  for (guint i = 0; i < *n_top; i++)
    g_free (top[i].args);
  *n_top = 0;
}

/* ---- the worker's side ---------------------------------------------------- */

/* Tasks are timed in ticks of the cheapest clock that can be trusted: the
 * CPU's time-stamp counter where the kernel keeps time with it (it then
 * runs at a constant rate, the same on every CPU), about 10 ns a reading
 * against 25 for monotonic time; otherwise monotonic time itself (µs). */
static gboolean
use_tsc (void)
{
#ifdef HAVE_TSC
  static gsize decided = 0;
  static gboolean tsc = FALSE;

  if (g_once_init_enter (&decided))
    {
      g_autofree char *source = NULL;

      tsc = g_file_get_contents ("/sys/devices/system/clocksource/clocksource0/current_clocksource",
                                 &source, NULL, NULL) &&
            g_str_equal (g_strstrip (source), "tsc");
      g_once_init_leave (&decided, 1);
    }
  return tsc;
#else
  return FALSE;
#endif
}

static inline gint64
read_ticks (gboolean tsc)
{
#ifdef HAVE_TSC
  if (tsc)
    return (gint64) __rdtsc ();
#endif
  return g_get_monotonic_time ();
}

struct _MpireInsightsMeter
{
  gint64   ready_at;     /* until the first report */
  gint64   parts[N_PARTS];
  guint64  n_tasks;
  gint64   tasks_since;  /* the tasks of a chunk run since then, or 0 */
  TopTask  top[MPIRE_INSIGHTS_TOP];  /* durations in ticks until reported */
  guint    n_top;
  gboolean tsc;
  gint64   origin_usec;  /* ticks per µs: (ticks - origin_ticks) / (now - origin_usec) */
  gint64   origin_ticks;
};

/* The arguments as MPIRE shows them: "Arg 0: 5, Arg 1: 'a'" for the
 * values of a tuple or a single value, "key: value" for an `a{sv}`; cut
 * to ARGS_TEXT_MAX bytes. */
static char *
describe_task_args (GVariant *args)
{
  GString *text = g_string_new (NULL);

  if (g_variant_is_of_type (args, G_VARIANT_TYPE_VARDICT))
    {
      GVariantIter iter;
      const char *key;
      GVariant *value;

      g_variant_iter_init (&iter, args);
      while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
        {
          g_string_append_printf (text, "%s%s: ", text->len > 0 ? ", " : "", key);
          g_variant_print_string (value, text, FALSE);
          g_variant_unref (value);
        }
    }
  else if (g_variant_is_of_type (args, G_VARIANT_TYPE_TUPLE))
    {
      gsize n = g_variant_n_children (args);

      for (gsize i = 0; i < n; i++)
        {
          g_autoptr(GVariant) value = g_variant_get_child_value (args, i);

          g_string_append_printf (text, "%sArg %" G_GSIZE_FORMAT ": ", i > 0 ? ", " : "", i);
          g_variant_print_string (value, text, FALSE);
        }
    }
  else
    {
      g_string_append (text, "Arg 0: ");
      g_variant_print_string (args, text, FALSE);
    }

  if (text->len > ARGS_TEXT_MAX)
    {
      /* At a character boundary, then an ellipsis. */
      const char *cut = g_utf8_find_prev_char (text->str, text->str + ARGS_TEXT_MAX + 1);

      g_string_truncate (text, cut - text->str);
      g_string_append (text, "…");
    }
  return g_string_free (text, FALSE);
}

MpireInsightsMeter *
mpire_insights_meter_new (gint64 ready_at)
{
  MpireInsightsMeter *self = g_new0 (MpireInsightsMeter, 1);

  self->ready_at = ready_at;
  self->tsc = use_tsc ();
  self->origin_usec = g_get_monotonic_time ();
  self->origin_ticks = read_ticks (self->tsc);
  return self;
}

void
mpire_insights_meter_free (MpireInsightsMeter *self)
{
  top_clear (self->top, &self->n_top);
  g_free (self);
}

/* Adds the time from @since (monotonic µs) to now to @part. */
void
mpire_insights_meter_add_since (MpireInsightsMeter *self,
                                MpireInsightsPart   part,
                                gint64              since)
{
  self->parts[part_of (part)] += g_get_monotonic_time () - since;
}

/* The tasks of a chunk start: their time is working time until the next
 * report. Returns the clock reading the first task starts at. */
gint64
mpire_insights_meter_begin_tasks (MpireInsightsMeter *self)
{
  self->tasks_since = g_get_monotonic_time ();
  return read_ticks (self->tsc);
}

/* A task that started at the clock reading @since ended now: one clock
 * reading per task. It counts if @completed (it did not fail), and joins
 * the longest ones with its @args if it is one of them. Returns the
 * reading, the start of the next task. */
gint64
mpire_insights_meter_task_done (MpireInsightsMeter *self,
                                gint64              since,
                                GVariant           *args,
                                gboolean            completed)
{
  gint64 now = read_ticks (self->tsc);
  gint64 duration = now - since;

  if (completed)
    self->n_tasks++;
  if (top_takes (self->top, self->n_top, duration))
    top_insert (self->top, &self->n_top, duration, describe_task_args (args));
  return now;
}

/* The report of the time since the last one (see the header); it ends
 * the working time of a chunk's tasks. */
GVariant *
mpire_insights_meter_take_report (MpireInsightsMeter *self)
{
  MpireInsightsMessage report;
  gint64 now = g_get_monotonic_time ();
  double usec_per_tick = 1;

  if (self->tasks_since != 0)
    self->parts[PART_WORKING] += now - self->tasks_since;
  self->tasks_since = 0;
  if (self->tsc)
    {
      gint64 ticks = read_ticks (TRUE) - self->origin_ticks;

      usec_per_tick = ticks > 0 ? (double) (now - self->origin_usec) / ticks : 0;
    }

  report = (MpireInsightsMessage) {
    .ready_at = self->ready_at,
    .init_time = self->parts[PART_INIT],
    .waiting_time = self->parts[PART_WAITING],
    .working_time = self->parts[PART_WORKING],
    .exit_time = self->parts[PART_EXIT],
    .n_completed = self->n_tasks,
  };
  for (guint i = 0; i < self->n_top; i++)
    if (!self->top[i].reported)
      {
        report.top[report.n_top++] = (MpireInsightsTopTask) {
          (gint64) (self->top[i].duration * usec_per_tick), self->top[i].args
        };
        self->top[i].reported = TRUE;
      }

  self->ready_at = 0;
  self->n_tasks = 0;
  memset (self->parts, 0, sizeof self->parts);
  return mpire_message_insights_new (&report);
}

/* ---- the pool's side ------------------------------------------------------ */

typedef struct
{
  guint64 n_tasks;
  gint64  parts[N_PARTS];  /* µs */
} Figures;

struct _MpireInsights
{
  gboolean  enabled;
  gint64    since;     /* when the workers (re)started */
  GArray   *workers;   /* Figures, by worker id */
  TopTask   top[MPIRE_INSIGHTS_TOP];
  guint     n_top;
};

MpireInsights *
mpire_insights_new (void)
{
  MpireInsights *self = g_new0 (MpireInsights, 1);

  self->workers = g_array_new (FALSE, TRUE, sizeof (Figures));
  return self;
}

void
mpire_insights_free (MpireInsights *self)
{
  top_clear (self->top, &self->n_top);
  g_array_unref (self->workers);
  g_free (self);
}

/* All the pool's workers start anew: the figures start from zero, for
 * @n_workers worker ids, or are not kept at all. */
void
mpire_insights_reset (MpireInsights *self,
                      gboolean       enabled,
                      guint          n_workers)
{
  self->enabled = enabled;
  self->since = g_get_monotonic_time ();
  /* Decided here, so that workers forked from this process know it. */
  if (enabled)
    use_tsc ();
  g_array_set_size (self->workers, 0);
  g_array_set_size (self->workers, enabled ? n_workers : 0);
  top_clear (self->top, &self->n_top);
}

gboolean
mpire_insights_is_enabled (MpireInsights *self)
{
  return self->enabled;
}

/* Adds a worker's @report. @started_at is when the pool started that
 * worker (monotonic µs): its start-up time ends when it got its HELLO.
 * Monotonic time is the same clock for every process of the machine.
 * Reports of workers started before the figures were reset (stopping
 * ones) are left out. The report comes from another process: negative
 * times count as none. */
static gboolean
is_reported_time (gint64 value)
{
  return value >= 0 && value <= MAX_REPORTED_TIME;
}

/* @a + @b (both not negative), or G_MAXINT64 past it. */
static gint64
add_saturated (gint64 a,
               gint64 b)
{
  return a > G_MAXINT64 - b ? G_MAXINT64 : a + b;
}

gboolean
mpire_insights_add_report (MpireInsights  *self,
                           int             worker_id,
                           gint64          started_at,
                           gint64          clock_offset,
                           GVariant       *report,
                           GError        **error)
{
  MpireInsightsMessage msg;
  gint64 parts[N_PARTS];
  Figures *figures;

  if (!self->enabled || started_at < self->since ||
      worker_id < 0 || (guint) worker_id >= self->workers->len)
    return TRUE;

  if (!mpire_message_insights_parse (report, &msg, error))
    return FALSE;
  if (!is_reported_time (msg.ready_at) || !is_reported_time (msg.init_time) ||
      !is_reported_time (msg.waiting_time) || !is_reported_time (msg.working_time) ||
      !is_reported_time (msg.exit_time) || msg.n_completed > MAX_REPORTED_TASKS)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Worker %d sent insights with a time or count out of range"), worker_id);
      return FALSE;
    }
  for (guint i = 0; i < msg.n_top; i++)
    if (!is_reported_time (msg.top[i].duration))
      {
        g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                     _("Worker %d sent insights with a task duration out of range"), worker_id);
        return FALSE;
      }

  /* The worker's clock may be another host's: @clock_offset turns its
   * times into the pool's. */
  if (msg.ready_at > 0)
    msg.ready_at = MAX (msg.ready_at + CLAMP (clock_offset, -MAX_CLOCK_OFFSET, MAX_CLOCK_OFFSET), 1);
  parts[PART_START_UP] = msg.ready_at > 0 ? msg.ready_at - CLAMP (started_at, 0, msg.ready_at) : 0;
  parts[PART_INIT] = msg.init_time;
  parts[PART_WAITING] = msg.waiting_time;
  parts[PART_WORKING] = msg.working_time;
  parts[PART_EXIT] = msg.exit_time;

  figures = &g_array_index (self->workers, Figures, worker_id);
  figures->n_tasks = MIN (figures->n_tasks + msg.n_completed, G_MAXUINT64 / 2);
  for (int p = 0; p < N_PARTS; p++)
    figures->parts[p] = add_saturated (figures->parts[p], parts[p]);

  for (guint i = 0; i < msg.n_top; i++)
    if (top_takes (self->top, self->n_top, msg.top[i].duration))
      top_insert (self->top, &self->n_top, msg.top[i].duration, g_strdup (msg.top[i].args));
  return TRUE;
}

typedef struct
{
  gint64 total[N_PARTS];
  gint64 all;              /* the sum of the totals */
  double mean[N_PARTS];    /* µs */
  double std[N_PARTS];     /* µs, of the population (as MPIRE) */
  guint64 n_tasks;
} Summary;

static void
summarize (MpireInsights *self,
           Summary       *summary)
{
  guint n = self->workers->len;

  memset (summary, 0, sizeof *summary);
  for (guint w = 0; w < n; w++)
    {
      Figures *figures = &g_array_index (self->workers, Figures, w);

      summary->n_tasks = MIN (summary->n_tasks + figures->n_tasks, G_MAXUINT64 / 2);
      for (int p = 0; p < N_PARTS; p++)
        summary->total[p] = add_saturated (summary->total[p], figures->parts[p]);
    }

  for (int p = 0; p < N_PARTS; p++)
    {
      double variance = 0;

      summary->all = add_saturated (summary->all, summary->total[p]);
      summary->mean[p] = n > 0 ? (double) summary->total[p] / n : 0;
      for (guint w = 0; w < n; w++)
        {
          double d = g_array_index (self->workers, Figures, w).parts[p] - summary->mean[p];

          variance += d * d;
        }
      summary->std[p] = n > 0 ? sqrt (variance / n) : 0;
    }
}

static double
share (const Summary *summary,
       Part           part)
{
  return summary->all > 0 ? (double) summary->total[part] / summary->all : 0;
}

static double
seconds (double usec)
{
  return usec / G_USEC_PER_SEC;
}

/* Adds the key @prefix@part@suffix. */
static void
add_double (GVariantBuilder *builder,
            const char      *prefix,
            const char      *part,
            const char      *suffix,
            double           value)
{
  g_autofree char *key = g_strconcat (prefix, part, suffix, NULL);

  g_variant_builder_add (builder, "{sv}", key, g_variant_new_double (value));
}

/* MPIRE's get_insights() as an `a{sv}`, times in seconds (doubles);
 * empty when insights are off. Floating. */
GVariant *
mpire_insights_to_variant (MpireInsights *self)
{
  GVariantBuilder builder, counts, durations, args;
  Summary summary;

  g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
  if (!self->enabled)
    return g_variant_builder_end (&builder);

  summarize (self, &summary);

  g_variant_builder_init (&counts, G_VARIANT_TYPE ("at"));
  for (guint w = 0; w < self->workers->len; w++)
    g_variant_builder_add (&counts, "t", g_array_index (self->workers, Figures, w).n_tasks);
  g_variant_builder_add (&builder, "{sv}", "n_completed_tasks", g_variant_builder_end (&counts));

  for (int p = 0; p < N_PARTS; p++)
    add_double (&builder, "total_", part_keys[p], "_time", seconds (summary.total[p]));
  g_variant_builder_add (&builder, "{sv}", "total_time",
                         g_variant_new_double (seconds (summary.all)));

  for (int p = 0; p < N_PARTS; p++)
    {
      GVariantBuilder per_worker;
      g_autofree char *key = g_strconcat (part_keys[p], "_time", NULL);

      g_variant_builder_init (&per_worker, G_VARIANT_TYPE ("ad"));
      for (guint w = 0; w < self->workers->len; w++)
        g_variant_builder_add (&per_worker, "d",
                               seconds (g_array_index (self->workers, Figures, w).parts[p]));
      g_variant_builder_add (&builder, "{sv}", key, g_variant_builder_end (&per_worker));
      add_double (&builder, "", part_keys[p], "_time_mean", seconds (summary.mean[p]));
      add_double (&builder, "", part_keys[p], "_time_std", seconds (summary.std[p]));
      add_double (&builder, "", part_keys[p], "_ratio", share (&summary, p));
    }

  g_variant_builder_init (&durations, G_VARIANT_TYPE ("ad"));
  g_variant_builder_init (&args, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < self->n_top; i++)
    {
      g_variant_builder_add (&durations, "d", seconds (self->top[i].duration));
      g_variant_builder_add (&args, "s", self->top[i].args);
    }
  g_variant_builder_add (&builder, "{sv}", "top_5_max_task_durations",
                         g_variant_builder_end (&durations));
  g_variant_builder_add (&builder, "{sv}", "top_5_max_task_args", g_variant_builder_end (&args));

  return g_variant_builder_end (&builder);
}

/* H:MM:SS.mmm, as MPIRE shows times. */
static void
append_time (GString *out,
             double   usec)
{
  gint64 ms = (gint64) (usec / 1000);

  g_string_append_printf (out, "%" G_GINT64_FORMAT ":%02d:%02d.%03d", ms / 3600000,
                          (int) (ms / 60000 % 60), (int) (ms / 1000 % 60), (int) (ms % 1000));
}

static void
append_cell (GString *out,
             double   usec)
{
  g_string_append (out, "  ");
  append_time (out, usec);
}

/* The human table of print_insights(). */
char *
mpire_insights_to_string (MpireInsights *self)
{
  const char *part_names[N_PARTS] = {
    C_("insights", "start-up"), C_("insights", "init"), C_("insights", "waiting"),
    C_("insights", "working"), C_("insights", "exit"),
  };
  GString *out;
  Summary summary;

  if (!self->enabled)
    return g_strdup_printf ("%s\n", _("No worker insights: set the pool’s enable-insights "
                                      "property before a call starts its workers."));

  summarize (self, &summary);
  out = g_string_new (NULL);
  g_string_append_printf (out, _("Worker insights. Tasks completed: %llu, workers: %u"),
                          (unsigned long long) summary.n_tasks, self->workers->len);
  g_string_append (out, "\n\n");

  g_string_append_printf (out, "%-10s  %-11s  %-11s  %-11s  %s\n", _("Time"), _("Total"),
                          _("Mean"), _("Std dev"), _("Share"));
  for (int p = 0; p < N_PARTS; p++)
    {
      g_string_append_printf (out, "%-10s", part_names[p]);
      append_cell (out, summary.total[p]);
      append_cell (out, summary.mean[p]);
      append_cell (out, summary.std[p]);
      g_string_append_printf (out, "  %6.2f%%\n", 100 * share (&summary, p));
    }
  g_string_append_printf (out, "%-10s", _("all"));
  append_cell (out, summary.all);
  g_string_append_c (out, '\n');
  if (summary.all > 0 && share (&summary, PART_WORKING) < WORKING_SHARE_NOTE)
    g_string_append_printf (out, _("Note: the workers spent %.2f%% of their time on tasks, "
                                   "less than %.0f%%.\n"),
                            100 * share (&summary, PART_WORKING), 100 * WORKING_SHARE_NOTE);

  g_string_append_printf (out, "\n%-6s  %10s", _("Worker"), _("Tasks"));
  for (int p = 0; p < N_PARTS; p++)
    g_string_append_printf (out, p + 1 < N_PARTS ? "  %-11s" : "  %s\n", part_names[p]);
  for (guint w = 0; w < self->workers->len; w++)
    {
      Figures *figures = &g_array_index (self->workers, Figures, w);

      g_string_append_printf (out, "%-6u  %10" G_GUINT64_FORMAT, w, figures->n_tasks);
      for (int p = 0; p < N_PARTS; p++)
        append_cell (out, figures->parts[p]);
      g_string_append_c (out, '\n');
    }

  g_string_append_printf (out, "\n%s\n", _("Longest tasks:"));
  for (guint i = 0; i < self->n_top; i++)
    {
      g_string_append_printf (out, "%u.", i + 1);
      append_cell (out, self->top[i].duration);
      g_string_append_printf (out, "  %s\n", self->top[i].args);
    }

  return g_string_free (out, FALSE);
}
