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
#include <glib/gi18n-lib.h>

#include "mpire-error.h"
#include "mpire-protocol-private.h"

static const char * const body_types[MPIRE_MESSAGE_LAST] = {
  [MPIRE_MESSAGE_HELLO]   = "(ibbbmv)",
  [MPIRE_MESSAGE_TASKS]   = "(tsbbv)",
  [MPIRE_MESSAGE_STOP]    = "()",
  [MPIRE_MESSAGE_RESULTS] = "(tbv)",
  [MPIRE_MESSAGE_ERROR]   = "(tusissbv)",
  [MPIRE_MESSAGE_CONFIG]  = "(ssbb)",
  [MPIRE_MESSAGE_EXIT_RESULT] = "(v)",
  [MPIRE_MESSAGE_FAILED]  = "(sisss)",
  [MPIRE_MESSAGE_INSIGHTS] = "(xxxxxta(xs))",
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
  g_autoptr(GBytes) bytes = NULL;

  if (!read_exactly (fd, header, sizeof header, TRUE, error))
    return FALSE;
  if (!mpire_frame_parse_header (header, kind, &body_len, &shared, error))
    return FALSE;

  buf = g_malloc (body_len);
  if (!read_exactly (fd, buf, body_len, FALSE, error))
    {
      g_free (buf);
      return FALSE;
    }

  bytes = g_bytes_new_take (buf, body_len);
  if (shared)
    *body = mpire_frame_decode_shared (*kind, g_bytes_get_data (bytes, NULL), ring, error);
  else
    *body = mpire_frame_decode_body (*kind, bytes);
  return *body != NULL;
}
