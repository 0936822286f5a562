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

typedef enum {
  /* pool → worker */
  MPIRE_MESSAGE_HELLO = 1,   /* (ibbbmv) worker id, pass id, use state, daemon,
                                shared objects */
  MPIRE_MESSAGE_TASKS,       /* (tsbbv) chunk id, task name, boxed, whole (one call
                                for the whole chunk), arguments */
  MPIRE_MESSAGE_STOP,        /* ()                                            */
  /* worker → pool */
  MPIRE_MESSAGE_RESULTS,     /* (tbv)   chunk id, boxed, results */
  MPIRE_MESSAGE_ERROR,       /* (tusissbv) chunk id, index of the failed task,
                                error domain, code, message, task name,
                                boxed, results of the tasks before it */
  /* pool → worker */
  MPIRE_MESSAGE_CONFIG,      /* (ssbb)  worker_init, worker_exit task names ("": none),
                                whether to time tasks in the heartbeat,
                                whether to measure insights */
  /* worker → pool */
  MPIRE_MESSAGE_EXIT_RESULT, /* (v)     what worker_exit returned */
  MPIRE_MESSAGE_FAILED,      /* (sisss) error domain, code, message, task name,
                                "init" or "exit" */
  MPIRE_MESSAGE_INSIGHTS,    /* (xxxxxta(xs)) see mpire-insights-private.h */
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

G_END_DECLS
