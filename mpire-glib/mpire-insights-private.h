/* mpire-insights-private.h: worker insights, measured and gathered
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* How many of the longest tasks the insights keep, as MPIRE. */
#define MPIRE_INSIGHTS_TOP 5

/* Parts timed around a call; tasks are timed with
 * mpire_insights_meter_begin_tasks() and _task_done(). */
typedef enum {
  MPIRE_INSIGHTS_INIT,     /* running worker_init */
  MPIRE_INSIGHTS_WAITING,  /* blocked reading the next message */
  MPIRE_INSIGHTS_EXIT,     /* running worker_exit */
} MpireInsightsPart;

/* The worker's side: what its time went to since its last report. The
 * pool gets an INSIGHTS report before each chunk's answer and when the
 * worker stops (MpireInsightsMessage, in mpire-protocol-private.h): the
 * monotonic time (µs) the worker got its HELLO, in its first report only
 * (0 in the others); µs spent in worker_init, waiting, working and
 * worker_exit; tasks completed; tasks that entered the worker's 5
 * longest since the last report (µs, arguments as text).
 *
 * Times are deltas, so that the pool only adds them up. */
typedef struct _MpireInsightsMeter MpireInsightsMeter;

MpireInsightsMeter *mpire_insights_meter_new         (gint64              ready_at);
void                mpire_insights_meter_free        (MpireInsightsMeter *self);
void                mpire_insights_meter_add_since   (MpireInsightsMeter *self,
                                                      MpireInsightsPart   part,
                                                      gint64              since);
gint64              mpire_insights_meter_begin_tasks (MpireInsightsMeter *self);
gint64              mpire_insights_meter_task_done   (MpireInsightsMeter *self,
                                                      gint64              since,
                                                      GVariant           *args,
                                                      gboolean            completed);
GVariant           *mpire_insights_meter_take_report (MpireInsightsMeter *self);

/* The pool's side: the reports added up per worker id, from the moment
 * all the pool's workers (re)started, as MPIRE resets its insights when
 * it starts its workers. Its owner, the scheduler, guards it with its lock. */
typedef struct _MpireInsights MpireInsights;

MpireInsights *mpire_insights_new        (void);
void           mpire_insights_free       (MpireInsights *self);
void           mpire_insights_reset      (MpireInsights *self,
                                          gboolean       enabled,
                                          guint          n_workers);
gboolean       mpire_insights_is_enabled (MpireInsights *self);
gboolean       mpire_insights_add_report (MpireInsights *self,
                                          int            worker_id,
                                          gint64         started_at,
                                          gint64         clock_offset,
                                          GVariant      *report,
                                          GError       **error);
GVariant      *mpire_insights_to_variant (MpireInsights *self);
char          *mpire_insights_to_string  (MpireInsights *self);

G_END_DECLS
