/* mpire-protocol.c: framing of the messages between a pool and its workers
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-protocol-private.h"

static const char * const body_types[MPIRE_MESSAGE_LAST] = {
  [MPIRE_MESSAGE_HELLO]   = "(ibbbmv)",
  [MPIRE_MESSAGE_TASKS]   = "(tsbbv)",
  [MPIRE_MESSAGE_STOP]    = "()",
  [MPIRE_MESSAGE_RESULTS] = "(tbv)",
  [MPIRE_MESSAGE_ERROR]   = "(tusissbv)",
  [MPIRE_MESSAGE_CONFIG]  = "(ssbbb)",
  [MPIRE_MESSAGE_EXIT_RESULT] = "(v)",
  [MPIRE_MESSAGE_FAILED]  = "(sisss)",
  [MPIRE_MESSAGE_INSIGHTS] = "(xxxxxta(xs))",
  [MPIRE_MESSAGE_PARTIAL] = "(tbv)",
  [MPIRE_MESSAGE_READY]   = "(sssx)",
  [MPIRE_MESSAGE_BEAT]    = "(tubb)",
};

const GVariantType *
mpire_message_body_type (MpireMessageKind kind)
{
  g_assert (kind > 0 && kind < MPIRE_MESSAGE_LAST);
  return G_VARIANT_TYPE (body_types[kind]);
}

gboolean
mpire_frame_check_size (gsize    body_size,
                        GError **error)
{
  if (body_size < MPIRE_FRAME_MAX_BODY)
    return TRUE;

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("A message of %zu bytes is too large to send to or "
                 "from a worker (the limit is 2 GiB); use smaller chunks"), body_size);
  return FALSE;
}

static GBytes *
frame_new (MpireMessageKind   kind,
           guint8             flags,
           gsize              body_len,
           guint8           **body)
{
  guint8 *buf = g_malloc (MPIRE_FRAME_HEADER_SIZE + body_len);
  guint32 len_le = GUINT32_TO_LE ((guint32) body_len);

  memcpy (buf, &len_le, 4);
  buf[4] = (guint8) kind;
  buf[5] = MPIRE_FRAME_MAGIC;
  buf[6] = flags;
  buf[7] = 0;
  *body = buf + MPIRE_FRAME_HEADER_SIZE;
  return g_bytes_new_take (buf, MPIRE_FRAME_HEADER_SIZE + body_len);
}

/* The frame of @body, whose bytes go to the @ring (the writing end of the
 * channel's shared ring, or %NULL) when it is large and the ring has
 * room. Fails only for a body too large for a frame (2 GiB). */
GBytes *
mpire_frame_encode (MpireMessageKind   kind,
                    GVariant          *body,
                    MpireSharedRing   *ring,
                    GError           **error)
{
  g_autoptr(GVariant) owned = g_variant_ref_sink (body);
  gsize size = g_variant_get_size (owned);
  guint8 *shared = NULL;
  guint64 position = 0;
  GBytes *frame;
  guint8 *dest;

  g_assert (g_variant_is_of_type (owned, mpire_message_body_type (kind)));
  if (!mpire_frame_check_size (size, error))
    return NULL;

  if (ring != NULL && size >= MPIRE_FRAME_SHARED_MIN_BODY)
    shared = mpire_shared_ring_reserve (ring, size, &position);
  if (shared == NULL)
    {
      frame = frame_new (kind, 0, size, &dest);
      g_variant_store (owned, dest);
      return frame;
    }

  g_variant_store (owned, shared);
  frame = frame_new (kind, MPIRE_FRAME_SHARED, MPIRE_FRAME_SHARED_REF_SIZE, &dest);
  position = GUINT64_TO_LE (position);
  memcpy (dest, &position, 8);
  {
    guint32 len_le = GUINT32_TO_LE ((guint32) size);
    memcpy (dest + 8, &len_le, 4);
  }
  return frame;
}

gboolean
mpire_frame_parse_header (const guint8      *header,
                          MpireMessageKind  *kind,
                          gsize             *body_len,
                          gboolean          *shared,
                          GError           **error)
{
  guint32 len_le;

  memcpy (&len_le, header, 4);
  if (header[5] != MPIRE_FRAME_MAGIC || (header[6] & ~MPIRE_FRAME_SHARED) != 0 ||
      header[7] != 0 || header[4] == 0 || header[4] >= MPIRE_MESSAGE_LAST ||
      GUINT32_FROM_LE (len_le) >= MPIRE_FRAME_MAX_BODY ||
      ((header[6] & MPIRE_FRAME_SHARED) != 0 &&
       GUINT32_FROM_LE (len_le) != MPIRE_FRAME_SHARED_REF_SIZE))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Received a corrupt message header (bytes %02x %02x %02x %02x "
                     "%02x %02x %02x %02x)"),
                   header[0], header[1], header[2], header[3],
                   header[4], header[5], header[6], header[7]);
      return FALSE;
    }

  *kind = header[4];
  *body_len = GUINT32_FROM_LE (len_le);
  *shared = (header[6] & MPIRE_FRAME_SHARED) != 0;
  return TRUE;
}

/* The body comes from another process: it is loaded as untrusted data,
 * which GVariant reads safely whatever the bytes are. */
GVariant *
mpire_frame_decode_body (MpireMessageKind  kind,
                         GBytes           *body)
{
  return g_variant_ref_sink (g_variant_new_from_bytes (mpire_message_body_type (kind),
                                                       body, FALSE));
}

/* The body of a shared frame, @where it says it is in the reading end of
 * the channel's @ring. */
GVariant *
mpire_frame_decode_shared (MpireMessageKind   kind,
                           const guint8      *where,
                           MpireSharedRing   *ring,
                           GError           **error)
{
  guint64 position;
  guint32 len;
  g_autoptr(GBytes) body = NULL;

  if (ring == NULL)
    {
      g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                           _("Received a message in shared memory on a channel that has none"));
      return NULL;
    }
  memcpy (&position, where, 8);
  memcpy (&len, where + 8, 4);
  body = mpire_shared_ring_take (ring, GUINT64_FROM_LE (position), GUINT32_FROM_LE (len), error);
  return body != NULL ? mpire_frame_decode_body (kind, body) : NULL;
}

gboolean
mpire_frame_write (int      fd,
                   GBytes  *frame,
                   GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (frame, &len);

  while (len > 0)
    {
      /* MSG_NOSIGNAL: a closed peer is an error here, never a SIGPIPE. */
      gssize n = send (fd, data, len, MSG_NOSIGNAL);

      /* A launched worker's standard output may be a pipe (sshd's): a
       * pool gone there is a SIGPIPE, which ends the worker as its end
       * of input would. */
      if (n < 0 && errno == ENOTSOCK)
        n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not send a message: %s"), g_strerror (saved_errno));
          return FALSE;
        }
      data += n;
      len -= n;
    }

  return TRUE;
}

/* Returns FALSE without an error at a clean end of stream. */
static gboolean
read_exactly (int       fd,
              guint8   *buf,
              gsize     len,
              gboolean  eof_ok,
              GError  **error)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = read (fd, buf + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not receive a message: %s"), g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0)
        {
          if (!(eof_ok && done == 0))
            g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                                 _("The connection closed in the middle of a message"));
          return FALSE;
        }
      done += n;
    }

  return TRUE;
}

/* A body's buffer grows by at most this much more than what came: a
 * header whose length lies (up to 2 GiB) costs no more memory than the
 * bytes that did come. */
#define BODY_FIRST_READ ((gsize) 16 << 20)

/* Reads the next frame of @fd, whose body may be in the reading end of
 * the channel's @ring. */
gboolean
mpire_frame_read (int                fd,
                  MpireSharedRing   *ring,
                  MpireMessageKind  *kind,
                  GVariant         **body,
                  GError           **error)
{
  guint8 header[MPIRE_FRAME_HEADER_SIZE];
  gsize body_len;
  gboolean shared;
  guint8 *buf;
  gsize done = 0;
  gsize allocated;
  g_autoptr(GBytes) bytes = NULL;

  if (!read_exactly (fd, header, sizeof header, TRUE, error))
    return FALSE;
  if (!mpire_frame_parse_header (header, kind, &body_len, &shared, error))
    return FALSE;

  allocated = MIN (body_len, BODY_FIRST_READ);
  buf = g_malloc (allocated);
  while (done < body_len)
    {
      if (done == allocated)
        {
          allocated = body_len - done > done ? 2 * done : body_len;
          buf = g_realloc (buf, allocated);
        }
      if (!read_exactly (fd, buf + done, allocated - done, FALSE, error))
        {
          g_free (buf);
          return FALSE;
        }
      done = allocated;
    }

  bytes = g_bytes_new_take (buf, body_len);
  if (shared)
    *body = mpire_frame_decode_shared (*kind, g_bytes_get_data (bytes, NULL), ring, error);
  else
    *body = mpire_frame_decode_body (*kind, bytes);
  return *body != NULL;
}

/* ---- messages ------------------------------------------------------------- */

static const char * const kind_names[MPIRE_MESSAGE_LAST] = {
  [MPIRE_MESSAGE_HELLO]   = "HELLO",
  [MPIRE_MESSAGE_TASKS]   = "TASKS",
  [MPIRE_MESSAGE_STOP]    = "STOP",
  [MPIRE_MESSAGE_RESULTS] = "RESULTS",
  [MPIRE_MESSAGE_ERROR]   = "ERROR",
  [MPIRE_MESSAGE_CONFIG]  = "CONFIG",
  [MPIRE_MESSAGE_EXIT_RESULT] = "EXIT_RESULT",
  [MPIRE_MESSAGE_FAILED]  = "FAILED",
  [MPIRE_MESSAGE_INSIGHTS] = "INSIGHTS",
  [MPIRE_MESSAGE_PARTIAL] = "PARTIAL",
  [MPIRE_MESSAGE_READY]   = "READY",
  [MPIRE_MESSAGE_BEAT]    = "BEAT",
};

static gboolean
check_body (GVariant          *body,
            MpireMessageKind   kind,
            GError           **error)
{
  if (body != NULL && g_variant_is_of_type (body, mpire_message_body_type (kind)))
    return TRUE;

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
               _("Received a %s message whose body is of type “%s” instead of “%s”"),
               kind_names[kind], body != NULL ? g_variant_get_type_string (body) : "",
               body_types[kind]);
  return FALSE;
}

/* Whether @array (taken) is an array of tasks or results, an `av` if
 * @boxed; on failure it is released and *@array is %NULL. */
static gboolean
check_array (GVariant         **array,
             gboolean           boxed,
             MpireMessageKind   kind,
             GError           **error)
{
  if (g_variant_is_of_type (*array, G_VARIANT_TYPE_ARRAY) &&
      (!boxed || g_variant_is_of_type (*array, G_VARIANT_TYPE ("av"))))
    return TRUE;

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
               boxed ? _("Received a %s message whose boxed array is of type “%s”, not “av”")
                     : _("Received a %s message whose array is of type “%s”, not an array"),
               kind_names[kind], g_variant_get_type_string (*array));
  g_clear_pointer (array, g_variant_unref);
  return FALSE;
}

/* The wire says "" for no task. */
static const char *
name_or_empty (const char *name)
{
  return name != NULL ? name : "";
}

static const char *
empty_to_null (const char *name)
{
  return *name != '\0' ? name : NULL;
}

GVariant *
mpire_message_hello_new (const MpireHelloMessage *msg)
{
  return g_variant_new ("(ibbbmv)", msg->worker_id, msg->pass_worker_id,
                        msg->use_worker_state, msg->daemon, msg->shared_objects);
}

gboolean
mpire_message_hello_parse (GVariant           *body,
                           MpireHelloMessage  *msg,
                           GError            **error)
{
  if (!check_body (body, MPIRE_MESSAGE_HELLO, error))
    return FALSE;
  g_variant_get (body, "(ibbbmv)", &msg->worker_id, &msg->pass_worker_id,
                 &msg->use_worker_state, &msg->daemon, &msg->shared_objects);
  return TRUE;
}

void
mpire_message_hello_clear (MpireHelloMessage *msg)
{
  g_clear_pointer (&msg->shared_objects, g_variant_unref);
}

GVariant *
mpire_message_tasks_new (const MpireTasksMessage *msg)
{
  return g_variant_new ("(tsbbv)", msg->chunk_id, msg->task_name, msg->boxed, msg->whole,
                        msg->args);
}

gboolean
mpire_message_tasks_parse (GVariant           *body,
                           MpireTasksMessage  *msg,
                           GError            **error)
{
  if (!check_body (body, MPIRE_MESSAGE_TASKS, error))
    return FALSE;
  g_variant_get (body, "(t&sbbv)", &msg->chunk_id, &msg->task_name, &msg->boxed, &msg->whole,
                 &msg->args);
  return check_array (&msg->args, msg->boxed, MPIRE_MESSAGE_TASKS, error);
}

void
mpire_message_tasks_clear (MpireTasksMessage *msg)
{
  g_clear_pointer (&msg->args, g_variant_unref);
}

GVariant *
mpire_message_stop_new (void)
{
  return g_variant_new_tuple (NULL, 0);
}

gboolean
mpire_message_stop_parse (GVariant  *body,
                          GError   **error)
{
  return check_body (body, MPIRE_MESSAGE_STOP, error);
}

GVariant *
mpire_message_results_new (const MpireResultsMessage *msg)
{
  return g_variant_new ("(tbv)", msg->chunk_id, msg->boxed, msg->results);
}

/* RESULTS and PARTIAL have the same body. */
static gboolean
results_parse (GVariant             *body,
               MpireMessageKind      kind,
               MpireResultsMessage  *msg,
               GError              **error)
{
  if (!check_body (body, kind, error))
    return FALSE;
  g_variant_get (body, "(tbv)", &msg->chunk_id, &msg->boxed, &msg->results);
  return check_array (&msg->results, msg->boxed, kind, error);
}

gboolean
mpire_message_results_parse (GVariant             *body,
                             MpireResultsMessage  *msg,
                             GError              **error)
{
  return results_parse (body, MPIRE_MESSAGE_RESULTS, msg, error);
}

GVariant *
mpire_message_partial_new (const MpireResultsMessage *msg)
{
  return mpire_message_results_new (msg);
}

gboolean
mpire_message_partial_parse (GVariant             *body,
                             MpireResultsMessage  *msg,
                             GError              **error)
{
  return results_parse (body, MPIRE_MESSAGE_PARTIAL, msg, error);
}

void
mpire_message_results_clear (MpireResultsMessage *msg)
{
  g_clear_pointer (&msg->results, g_variant_unref);
}

GVariant *
mpire_message_error_new (const MpireErrorMessage *msg)
{
  return g_variant_new ("(tusissbv)", msg->chunk_id, msg->index, msg->domain, msg->code,
                        msg->message, msg->task_name, msg->boxed, msg->results);
}

gboolean
mpire_message_error_parse (GVariant           *body,
                           MpireErrorMessage  *msg,
                           GError            **error)
{
  if (!check_body (body, MPIRE_MESSAGE_ERROR, error))
    return FALSE;
  g_variant_get (body, "(tu&si&s&sbv)", &msg->chunk_id, &msg->index, &msg->domain, &msg->code,
                 &msg->message, &msg->task_name, &msg->boxed, &msg->results);
  return check_array (&msg->results, msg->boxed, MPIRE_MESSAGE_ERROR, error);
}

void
mpire_message_error_clear (MpireErrorMessage *msg)
{
  g_clear_pointer (&msg->results, g_variant_unref);
}

GVariant *
mpire_message_config_new (const MpireConfigMessage *msg)
{
  return g_variant_new ("(ssbbb)", name_or_empty (msg->worker_init),
                        name_or_empty (msg->worker_exit), msg->timed, msg->insights,
                        msg->partial);
}

gboolean
mpire_message_config_parse (GVariant            *body,
                            MpireConfigMessage  *msg,
                            GError             **error)
{
  if (!check_body (body, MPIRE_MESSAGE_CONFIG, error))
    return FALSE;
  g_variant_get (body, "(&s&sbbb)", &msg->worker_init, &msg->worker_exit, &msg->timed,
                 &msg->insights, &msg->partial);
  msg->worker_init = empty_to_null (msg->worker_init);
  msg->worker_exit = empty_to_null (msg->worker_exit);
  return TRUE;
}

GVariant *
mpire_message_exit_result_new (const MpireExitResultMessage *msg)
{
  return g_variant_new ("(v)", msg->result);
}

gboolean
mpire_message_exit_result_parse (GVariant                *body,
                                 MpireExitResultMessage  *msg,
                                 GError                 **error)
{
  if (!check_body (body, MPIRE_MESSAGE_EXIT_RESULT, error))
    return FALSE;
  g_variant_get (body, "(v)", &msg->result);
  return TRUE;
}

void
mpire_message_exit_result_clear (MpireExitResultMessage *msg)
{
  g_clear_pointer (&msg->result, g_variant_unref);
}

static const char * const stage_names[] = {
  [MPIRE_LIFECYCLE_STAGE_INIT] = "init",
  [MPIRE_LIFECYCLE_STAGE_EXIT] = "exit",
};

GVariant *
mpire_message_failed_new (const MpireFailedMessage *msg)
{
  g_return_val_if_fail (msg->stage < G_N_ELEMENTS (stage_names), NULL);

  return g_variant_new ("(sisss)", msg->domain, msg->code, msg->message, msg->task_name,
                        stage_names[msg->stage]);
}

gboolean
mpire_message_failed_parse (GVariant            *body,
                            MpireFailedMessage  *msg,
                            GError             **error)
{
  const char *stage;

  if (!check_body (body, MPIRE_MESSAGE_FAILED, error))
    return FALSE;
  g_variant_get (body, "(&si&s&s&s)", &msg->domain, &msg->code, &msg->message,
                 &msg->task_name, &stage);
  for (gsize i = 0; i < G_N_ELEMENTS (stage_names); i++)
    if (g_str_equal (stage, stage_names[i]))
      {
        msg->stage = i;
        return TRUE;
      }

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
               _("Received a FAILED message of the unknown stage “%s”"), stage);
  return FALSE;
}

GVariant *
mpire_message_insights_new (const MpireInsightsMessage *msg)
{
  GVariant *top[MPIRE_MESSAGE_INSIGHTS_MAX_TOP];

  g_return_val_if_fail (msg->n_top <= MPIRE_MESSAGE_INSIGHTS_MAX_TOP, NULL);

  for (guint i = 0; i < msg->n_top; i++)
    top[i] = g_variant_new ("(xs)", msg->top[i].duration, msg->top[i].args);
  return g_variant_new ("(xxxxxt@a(xs))", msg->ready_at, msg->init_time, msg->waiting_time,
                        msg->working_time, msg->exit_time, msg->n_completed,
                        g_variant_new_array (G_VARIANT_TYPE ("(xs)"), top, msg->n_top));
}

gboolean
mpire_message_insights_parse (GVariant              *body,
                              MpireInsightsMessage  *msg,
                              GError               **error)
{
  g_autoptr(GVariant) top = NULL;
  gsize n_top;

  if (!check_body (body, MPIRE_MESSAGE_INSIGHTS, error))
    return FALSE;
  /* So that the strings are in @body's bytes, as with "&s" below. */
  g_variant_get_data (body);
  g_variant_get (body, "(xxxxxt@a(xs))", &msg->ready_at, &msg->init_time, &msg->waiting_time,
                 &msg->working_time, &msg->exit_time, &msg->n_completed, &top);
  n_top = g_variant_n_children (top);
  if (n_top > MPIRE_MESSAGE_INSIGHTS_MAX_TOP)
    {
      msg->n_top = 0;
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Received an INSIGHTS message of %zu longest tasks (at most %d)"),
                   n_top, MPIRE_MESSAGE_INSIGHTS_MAX_TOP);
      return FALSE;
    }

  msg->n_top = n_top;
  for (gsize i = 0; i < n_top; i++)
    g_variant_get_child (top, i, "(x&s)", &msg->top[i].duration, &msg->top[i].args);
  return TRUE;
}

GVariant *
mpire_message_ready_new (const MpireReadyMessage *msg)
{
  return g_variant_new ("(sssx)", msg->version, msg->host, msg->pid, msg->now);
}

gboolean
mpire_message_ready_parse (GVariant           *body,
                           MpireReadyMessage  *msg,
                           GError            **error)
{
  if (!check_body (body, MPIRE_MESSAGE_READY, error))
    return FALSE;
  g_variant_get (body, "(&s&s&sx)", &msg->version, &msg->host, &msg->pid, &msg->now);
  return TRUE;
}

GVariant *
mpire_message_beat_new (const MpireBeatMessage *msg)
{
  return g_variant_new ("(tubb)", msg->chunk_id, msg->index, msg->timed, msg->running);
}

gboolean
mpire_message_beat_parse (GVariant          *body,
                          MpireBeatMessage  *msg,
                          GError           **error)
{
  if (!check_body (body, MPIRE_MESSAGE_BEAT, error))
    return FALSE;
  g_variant_get (body, "(tubb)", &msg->chunk_id, &msg->index, &msg->timed, &msg->running);
  return TRUE;
}
