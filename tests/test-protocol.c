/* test-protocol.c: frames between pool and workers
 *
 * SPDX-License-Identifier: MIT
 */

#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-protocol-private.h"

#include "test-util.h"


static void
test_roundtrip (void)
{
  int fds[2];
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;
  MpireMessageKind kind;
  guint64 id;
  const char *name;
  gboolean boxed, whole;
  g_autoptr(GVariant) args = NULL;

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));

  frame = mpire_frame_encode (MPIRE_MESSAGE_TASKS,
                              g_variant_new ("(tsbbv)", G_GUINT64_CONSTANT (42), "square", FALSE,
                                             TRUE, g_variant_new_parsed ("[@x 1, 2, 3]")),
                              NULL, NULL);
  g_assert_true (mpire_frame_write (fds[0], frame, &error));
  g_assert_no_error (error);

  g_assert_true (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, MPIRE_MESSAGE_TASKS);
  g_variant_get (body, "(t&sbbv)", &id, &name, &boxed, &whole, &args);
  g_assert_cmpuint (id, ==, 42);
  g_assert_cmpstr (name, ==, "square");
  g_assert_false (boxed);
  g_assert_true (whole);
  assert_printed (args, TRUE, "[int64 1, 2, 3]");

  /* A clean end of stream is not an error. */
  close (fds[0]);
  g_clear_pointer (&body, g_variant_unref);
  g_assert_false (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_no_error (error);
  close (fds[1]);
}

static void
test_corrupt_header (void)
{
  const guint8 bad_magic[8] = { 4, 0, 0, 0, MPIRE_MESSAGE_RESULTS, 0x00, 0, 0 };
  const guint8 bad_kind[8] = { 4, 0, 0, 0, 99, MPIRE_FRAME_MAGIC, 0, 0 };
  const guint8 too_long[8] = { 0xff, 0xff, 0xff, 0xff, MPIRE_MESSAGE_RESULTS, MPIRE_FRAME_MAGIC, 0, 0 };
  const guint8 bad_flags[8] = { 4, 0, 0, 0, MPIRE_MESSAGE_RESULTS, MPIRE_FRAME_MAGIC, 0x02, 0 };
  /* Where a shared body is takes exactly 12 bytes. */
  const guint8 bad_shared[8] = { 4, 0, 0, 0, MPIRE_MESSAGE_RESULTS, MPIRE_FRAME_MAGIC,
                                 MPIRE_FRAME_SHARED, 0 };
  const guint8 *headers[] = { bad_magic, bad_kind, too_long, bad_flags, bad_shared };

  for (gsize i = 0; i < G_N_ELEMENTS (headers); i++)
    {
      g_autoptr(GError) error = NULL;
      MpireMessageKind kind;
      gsize len;
      gboolean shared;

      g_assert_false (mpire_frame_parse_header (headers[i], &kind, &len, &shared, &error));
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
    }
}

static void
test_truncated (void)
{
  int fds[2];
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;
  MpireMessageKind kind;
  gsize len;
  const guint8 *data;

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  frame = mpire_frame_encode (MPIRE_MESSAGE_RESULTS,
                              g_variant_new ("(tbv)", G_GUINT64_CONSTANT (1), FALSE,
                                             g_variant_new_parsed ("[@x 1, 2, 3]")), NULL, NULL);
  data = g_bytes_get_data (frame, &len);
  g_assert_cmpint (write (fds[0], data, len - 3), ==, (gssize) len - 3);
  close (fds[0]);

  g_assert_false (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
  close (fds[1]);
}

/* A body of garbage bytes is read without harm: GVariant treats it as
 * untrusted data and yields default values. */
static void
test_garbage_body (void)
{
  const guint8 junk[] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03 };
  g_autoptr(GBytes) bytes = g_bytes_new (junk, sizeof junk);
  g_autoptr(GVariant) body = mpire_frame_decode_body (MPIRE_MESSAGE_RESULTS, bytes);
  g_autoptr(GVariant) results = NULL;
  guint64 id;
  gboolean boxed;

  g_variant_get (body, "(tbv)", &id, &boxed, &results);
  g_assert_nonnull (results);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/protocol/roundtrip", test_roundtrip);
  g_test_add_func ("/mpire/protocol/corrupt-header", test_corrupt_header);
  g_test_add_func ("/mpire/protocol/truncated", test_truncated);
  g_test_add_func ("/mpire/protocol/garbage-body", test_garbage_body);

  return g_test_run ();
}
