/* mpire-protocol-private.h: frames exchanged between a pool and its workers
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

#include "mpire-shared-ring-private.h"

G_BEGIN_DECLS

/* A frame is an 8-byte header, then a serialised GVariant (normal form)
 * whose type is fixed by the frame's kind:
 *
 *   header: guint32 body length (little endian), guint8 kind,
 *           guint8 MPIRE_FRAME_MAGIC, guint8 flags, guint8 zero
 *
 * With the flag MPIRE_FRAME_SHARED, the body is in the channel's shared
 * ring (see mpire-shared-ring-private.h) and the frame carries only where:
 * guint64 position and guint32 length (little endian). Bodies of
 * MPIRE_FRAME_SHARED_MIN_BODY bytes or more go that way when the ring has
 * room, which saves the copies through the socket.
 *
 * Chunks of tasks and of results travel as one array each. "boxed" arrays
 * are `av` wrapping each element, used when the elements' types differ;
 * otherwise the array has the elements' own type (`ax` ...), so that a
 * slice of the caller's array is sent as is.
 *
 * Any byte stream carries frames: a socketpair locally, the stdin/stdout
 * of a remote shell later. */

#define MPIRE_FRAME_HEADER_SIZE 8
#define MPIRE_FRAME_MAGIC       0x4d
#define MPIRE_FRAME_MAX_BODY    ((gsize) 1 << 31)
#define MPIRE_FRAME_SHARED      0x01
#define MPIRE_FRAME_SHARED_REF_SIZE 12
#define MPIRE_FRAME_SHARED_MIN_BODY (32 * 1024)

/* The most longest tasks an INSIGHTS report carries (the insights keep
 * MPIRE_INSIGHTS_TOP, as many). */
#define MPIRE_MESSAGE_INSIGHTS_MAX_TOP 5

/* The kinds of message, with their body types. The bodies are built and
 * read only by the constructors and parsers below, nowhere else. Who
 * sends and who receives each:
 *
 *   kind         body           sent by               → received by
 *   HELLO        (ibbbmv)       mpire-scheduler.c     → mpire-worker.c
 *   TASKS        (tsbbv)        mpire-chunk.c (built),
 *                               mpire-scheduler.c     → mpire-worker.c
 *   STOP         ()             mpire-worker-link.c   → mpire-worker.c
 *   RESULTS      (tbv)          mpire-worker.c        → mpire-scheduler.c
 *   ERROR        (tusissbv)     mpire-worker.c        → mpire-scheduler.c
 *   CONFIG       (ssbbb)        mpire-scheduler.c     → mpire-worker.c
 *   EXIT_RESULT  (v)            mpire-worker.c        → mpire-scheduler.c
 *   FAILED       (sisss)        mpire-worker.c        → mpire-scheduler.c
 *   INSIGHTS     (xxxxxta(xs))  mpire-insights.c (built),
 *                               mpire-worker.c        → mpire-scheduler.c, read by
 *                                                       mpire-insights.c
 *   PARTIAL      (tbv)          mpire-worker.c        → mpire-scheduler.c
 *   READY        (sssx)         mpire-worker.c        → mpire-worker-link.c (a launched
 *                                                       worker's first frame: the handshake)
 *   BEAT         (tubb)         mpire-worker.c        → mpire-worker-link.c (a launched
 *                                                       worker's heartbeat, which the link
 *                                                       copies into its own)
 *
 * The fields of each are those of its struct, in the same order. */
typedef enum {
  MPIRE_MESSAGE_HELLO = 1,
  MPIRE_MESSAGE_TASKS,
  MPIRE_MESSAGE_STOP,
  MPIRE_MESSAGE_RESULTS,
  MPIRE_MESSAGE_ERROR,
  MPIRE_MESSAGE_CONFIG,
  MPIRE_MESSAGE_EXIT_RESULT,
  MPIRE_MESSAGE_FAILED,
  MPIRE_MESSAGE_INSIGHTS,
  MPIRE_MESSAGE_PARTIAL,
  MPIRE_MESSAGE_READY,
  MPIRE_MESSAGE_BEAT,
  MPIRE_MESSAGE_LAST
} MpireMessageKind;

const GVariantType *mpire_message_body_type    (MpireMessageKind   kind);
gboolean            mpire_frame_check_size     (gsize              body_size,
                                                GError           **error);
GBytes             *mpire_frame_encode         (MpireMessageKind   kind,
                                                GVariant          *body,
                                                MpireSharedRing   *ring,
                                                GError           **error);
gboolean            mpire_frame_parse_header   (const guint8      *header,
                                                MpireMessageKind  *kind,
                                                gsize             *body_len,
                                                gboolean          *shared,
                                                GError           **error);
GVariant           *mpire_frame_decode_body    (MpireMessageKind   kind,
                                                GBytes            *body);
GVariant           *mpire_frame_decode_shared  (MpireMessageKind   kind,
                                                const guint8      *where,
                                                MpireSharedRing   *ring,
                                                GError           **error);
gboolean            mpire_frame_write          (int                fd,
                                                GBytes            *frame,
                                                GError           **error);
gboolean            mpire_frame_read           (int                fd,
                                                MpireSharedRing   *ring,
                                                MpireMessageKind  *kind,
                                                GVariant         **body,
                                                GError           **error);

/* ---- Messages ---------------------------------------------------------------
 *
 * Each kind of message has a struct of its fields, and a pair
 *
 *   GVariant *mpire_message_KIND_new   (const MpireKINDMessage  *msg);
 *   gboolean  mpire_message_KIND_parse (GVariant                *body,
 *                                       MpireKINDMessage        *msg,
 *                                       GError                 **error);
 *
 * _new() returns a floating body, which mpire_frame_encode() and
 * mpire_worker_link_send() sink. It only reads @msg's strings (none may
 * be %NULL unless the field says so), and takes its GVariant fields as
 * g_variant_new() does: a floating one is consumed, any other gets a
 * reference of its own. Arrays are never copied: building a TASKS or
 * RESULTS body costs the same whatever the number of tasks.
 *
 * _parse() fills @msg from a @body received (or built) for that kind.
 * Its strings point into @body, valid as long as @body is (a body built
 * in this process is serialised first, as g_variant_get() does for
 * "&s"; a body received is already). Its GVariant fields are the
 * caller's references, which share @body's bytes (no copy): release
 * them with the kind's _clear() (or declare @msg with g_auto()). A body
 * of another type, or whose array of tasks or results is not an array
 * (an `av` one when it says "boxed"), is an %MPIRE_ERROR_PROTOCOL error;
 * @msg then holds no reference, but the scalar and string fields read
 * before the check are set (TASKS: the worker answers a bad chunk with
 * its chunk_id and task_name).
 *
 * A body built from untrusted bytes (mpire_frame_decode_body()) is read
 * safely: a bad serialisation reads as default values. */

/* HELLO, the first message to a worker: who it is and how it serves. */
typedef struct
{
  int       worker_id;
  gboolean  pass_worker_id;
  gboolean  use_worker_state;
  gboolean  daemon;
  GVariant *shared_objects;    /* %NULL: none (or they come another way) */
} MpireHelloMessage;

/* TASKS: one chunk. @args is an array of the tasks' arguments, boxed (an
 * `av`) when their types differ; with @whole, the task takes the whole
 * array in one call. */
typedef struct
{
  guint64     chunk_id;
  const char *task_name;
  gboolean    boxed;
  gboolean    whole;
  GVariant   *args;
} MpireTasksMessage;

/* RESULTS: the results of a whole chunk, an array boxed as TASKS'.
 * PARTIAL, with the same fields: with retry-on-worker-death, the results
 * of the chunk's tasks done since its previous PARTIAL, sent as each task
 * ends (never the chunk's last one: RESULTS or ERROR carry the rest), so
 * that a retry after the worker's death runs only the others. */
typedef struct
{
  guint64   chunk_id;
  gboolean  boxed;
  GVariant *results;
} MpireResultsMessage;

/* ERROR: the task at @index of a chunk failed (or the chunk could not
 * run: then @index is 0); @results are those of the tasks before it. The
 * error's @domain is a quark's name ("" for none). */
typedef struct
{
  guint64     chunk_id;
  guint32     index;
  const char *domain;
  gint32      code;
  const char *message;
  const char *task_name;
  gboolean    boxed;
  GVariant   *results;
} MpireErrorMessage;

/* CONFIG, before a call's first chunk: the call's worker_init and
 * worker_exit task names, whether the heartbeat times tasks (the call has
 * a task timeout), whether to measure insights, whether to send PARTIAL
 * results (the call retries chunks after a worker's death). */
typedef struct
{
  const char *worker_init;     /* %NULL: none ("" on the wire) */
  const char *worker_exit;     /* %NULL: none ("" on the wire) */
  gboolean    timed;
  gboolean    insights;
  gboolean    partial;
} MpireConfigMessage;

/* EXIT_RESULT: what worker_exit returned. */
typedef struct
{
  GVariant *result;
} MpireExitResultMessage;

typedef enum {
  MPIRE_LIFECYCLE_STAGE_INIT,  /* "init" on the wire */
  MPIRE_LIFECYCLE_STAGE_EXIT,  /* "exit" on the wire */
} MpireLifecycleStage;

/* FAILED: worker_init or worker_exit (@stage) returned an error. */
typedef struct
{
  const char          *domain;
  gint32               code;
  const char          *message;
  const char          *task_name;
  MpireLifecycleStage  stage;
} MpireFailedMessage;

/* INSIGHTS: a worker's figures since its last report (see
 * mpire-insights-private.h). Times in µs. */
typedef struct
{
  gint64      duration;
  const char *args;            /* as text */
} MpireInsightsTopTask;

typedef struct
{
  gint64               ready_at;   /* when the HELLO came (monotonic), in the first
                                      report only; else 0 */
  gint64               init_time;
  gint64               waiting_time;
  gint64               working_time;
  gint64               exit_time;
  guint64              n_completed;
  guint                n_top;      /* at most MPIRE_MESSAGE_INSIGHTS_MAX_TOP */
  MpireInsightsTopTask top[MPIRE_MESSAGE_INSIGHTS_MAX_TOP];
} MpireInsightsMessage;

GVariant *mpire_message_hello_new          (const MpireHelloMessage       *msg);
gboolean  mpire_message_hello_parse        (GVariant                      *body,
                                            MpireHelloMessage             *msg,
                                            GError                       **error);
void      mpire_message_hello_clear        (MpireHelloMessage             *msg);

GVariant *mpire_message_tasks_new          (const MpireTasksMessage       *msg);
gboolean  mpire_message_tasks_parse        (GVariant                      *body,
                                            MpireTasksMessage             *msg,
                                            GError                       **error);
void      mpire_message_tasks_clear        (MpireTasksMessage             *msg);

/* STOP has no fields. */
GVariant *mpire_message_stop_new           (void);
gboolean  mpire_message_stop_parse         (GVariant                      *body,
                                            GError                       **error);

GVariant *mpire_message_results_new        (const MpireResultsMessage     *msg);
gboolean  mpire_message_results_parse      (GVariant                      *body,
                                            MpireResultsMessage           *msg,
                                            GError                       **error);
void      mpire_message_results_clear      (MpireResultsMessage           *msg);
GVariant *mpire_message_partial_new        (const MpireResultsMessage     *msg);
gboolean  mpire_message_partial_parse      (GVariant                      *body,
                                            MpireResultsMessage           *msg,
                                            GError                       **error);

GVariant *mpire_message_error_new          (const MpireErrorMessage       *msg);
gboolean  mpire_message_error_parse        (GVariant                      *body,
                                            MpireErrorMessage             *msg,
                                            GError                       **error);
void      mpire_message_error_clear        (MpireErrorMessage             *msg);

GVariant *mpire_message_config_new         (const MpireConfigMessage      *msg);
gboolean  mpire_message_config_parse       (GVariant                      *body,
                                            MpireConfigMessage            *msg,
                                            GError                       **error);

GVariant *mpire_message_exit_result_new    (const MpireExitResultMessage  *msg);
gboolean  mpire_message_exit_result_parse  (GVariant                      *body,
                                            MpireExitResultMessage        *msg,
                                            GError                       **error);
void      mpire_message_exit_result_clear  (MpireExitResultMessage        *msg);

GVariant *mpire_message_failed_new         (const MpireFailedMessage      *msg);
gboolean  mpire_message_failed_parse       (GVariant                      *body,
                                            MpireFailedMessage            *msg,
                                            GError                       **error);

GVariant *mpire_message_insights_new       (const MpireInsightsMessage    *msg);
gboolean  mpire_message_insights_parse     (GVariant                      *body,
                                            MpireInsightsMessage          *msg,
                                            GError                       **error);

/* READY: a worker started through a launcher greets its pool first
 * with its library version, its host and its process id, which the pool
 * checks before anything else, and its monotonic clock (µs), which may
 * be another host's. */
typedef struct
{
  const char *version;
  const char *host;
  const char *pid;
  gint64      now;
} MpireReadyMessage;

GVariant *mpire_message_ready_new          (const MpireReadyMessage       *msg);
gboolean  mpire_message_ready_parse        (GVariant                      *body,
                                            MpireReadyMessage             *msg,
                                            GError                       **error);

/* BEAT: what the heartbeat of a worker that shares no memory with its
 * pool would say (see mpire-heartbeat-private.h): a task started
 * (@running) or the timed one ended. */
typedef struct
{
  guint64  chunk_id;
  guint32  index;
  gboolean timed;
  gboolean running;
} MpireBeatMessage;

GVariant *mpire_message_beat_new           (const MpireBeatMessage        *msg);
gboolean  mpire_message_beat_parse         (GVariant                      *body,
                                            MpireBeatMessage              *msg,
                                            GError                       **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpireHelloMessage, mpire_message_hello_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpireTasksMessage, mpire_message_tasks_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpireResultsMessage, mpire_message_results_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpireErrorMessage, mpire_message_error_clear)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MpireExitResultMessage, mpire_message_exit_result_clear)

G_END_DECLS
