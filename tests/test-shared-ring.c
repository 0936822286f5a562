/* test-shared-ring.c: large frame bodies through shared memory
 *
 * SPDX-License-Identifier: MIT
 */

#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-protocol-private.h"
#include "mpire-shared-ring-private.h"

#define CAPACITY ((gsize) 256 * 1024)

/* Two views of one ring, as a pool and its worker have them. */
typedef struct
{
  int              fd;
  MpireSharedRing *writer;
  MpireSharedRing *reader;
  int              socket[2];
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  f->fd = memfd_create ("test-shared-ring", MFD_CLOEXEC);
  g_assert_cmpint (f->fd, >=, 0);
  g_assert_no_errno (ftruncate (f->fd, MPIRE_SHARED_RING_MEMORY_SIZE (CAPACITY)));
  f->writer = mpire_shared_ring_map (f->fd, 0, CAPACITY);
  f->reader = mpire_shared_ring_map (f->fd, 0, CAPACITY);
  g_assert_nonnull (f->writer);
  g_assert_nonnull (f->reader);
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->socket));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  mpire_shared_ring_unref (f->writer);
  mpire_shared_ring_unref (f->reader);
  close (f->fd);
  close (f->socket[0]);
  close (f->socket[1]);
}

/* A RESULTS body of @n int64 counting from @first: 16 bytes and 8 per
 * element. */
static GVariant *
results_body (gint64 first,
              gsize  n)
{
  g_autofree gint64 *values = g_new (gint64, n);

  for (gsize i = 0; i < n; i++)
    values[i] = first + (gint64) i;
  return mpire_message_results_new (&(MpireResultsMessage) {
    G_GUINT64_CONSTANT (7), FALSE,
    g_variant_new_fixed_array (G_VARIANT_TYPE_INT64, values, n, sizeof (gint64))
  });
}

static void
assert_results (GVariant *body,
                gint64    first,
                gsize     n)
{
  g_auto(MpireResultsMessage) msg = { 0 };
  const gint64 *values;
  gsize len;

  g_assert_true (mpire_message_results_parse (body, &msg, NULL));
  values = g_variant_get_fixed_array (msg.results, &len, sizeof (gint64));
  g_assert_cmpuint (len, ==, n);
  for (gsize i = 0; i < n; i++)
    g_assert_cmpint (values[i], ==, first + (gint64) i);
}

/* Encodes through the writer, sends, reads through the reader. */
static GVariant *
send_and_read (Fixture *f,
               GVariant *body,
               gsize    *frame_len)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (MPIRE_MESSAGE_RESULTS, body, f->writer, NULL);
  g_autoptr(GError) error = NULL;
  MpireMessageKind kind;
  GVariant *read_body = NULL;

  g_assert_nonnull (frame);
  *frame_len = g_bytes_get_size (frame);
  g_assert_true (mpire_frame_write (f->socket[0], frame, &error));
  g_assert_true (mpire_frame_read (f->socket[1], f->reader, &kind, &read_body, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, MPIRE_MESSAGE_RESULTS);
  return read_body;
}

/* Where a shared frame says its body is. */
static guint64
frame_position (Fixture  *f,
                GVariant *body)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (MPIRE_MESSAGE_RESULTS, body, f->writer, NULL);
  const guint8 *data = g_bytes_get_data (frame, NULL);
  guint64 position;

  g_assert_cmpuint (g_bytes_get_size (frame), ==,
                    MPIRE_FRAME_HEADER_SIZE + MPIRE_FRAME_SHARED_REF_SIZE);
  memcpy (&position, data + MPIRE_FRAME_HEADER_SIZE, 8);
  return GUINT64_FROM_LE (position);
}

static void
test_large_bodies_go_shared (Fixture       *f,
                             gconstpointer  data)
{
  gsize frame_len;
  g_autoptr(GVariant) small = send_and_read (f, results_body (0, 10), &frame_len);
  g_autoptr(GVariant) large = NULL;

  /* Small bodies stay in the frame. */
  g_assert_cmpuint (frame_len, >, MPIRE_FRAME_HEADER_SIZE + 10 * 8);
  assert_results (small, 0, 10);

  /* Large ones are only pointed at. */
  large = send_and_read (f, results_body (100, 10000), &frame_len);
  g_assert_cmpuint (frame_len, ==, MPIRE_FRAME_HEADER_SIZE + MPIRE_FRAME_SHARED_REF_SIZE);
  assert_results (large, 100, 10000);
}

/* A ring without room sends through the socket; regions come back in
 * order, whatever order their bodies are freed in; an empty ring starts
 * again at its beginning. */
static void
test_full_ring (Fixture       *f,
                gconstpointer  data)
{
  const gsize n = 10000;   /* 80 KB: three do not fit in 256 KiB */
  gsize frame_len;
  GVariant *a = send_and_read (f, results_body (0, n), &frame_len);
  GVariant *b = send_and_read (f, results_body (n, n), &frame_len);
  g_autoptr(GVariant) c = NULL;
  g_autoptr(GVariant) d = NULL;

  g_assert_cmpuint (frame_len, ==, MPIRE_FRAME_HEADER_SIZE + MPIRE_FRAME_SHARED_REF_SIZE);
  c = send_and_read (f, results_body (2 * n, 2 * n), &frame_len);
  g_assert_cmpuint (frame_len, >, 2 * n * 8);
  assert_results (c, 2 * n, 2 * n);

  /* b is freed first: a still holds the start of the ring. */
  g_variant_unref (b);
  d = send_and_read (f, results_body (0, 2 * n), &frame_len);
  g_assert_cmpuint (frame_len, >, 2 * n * 8);
  g_clear_pointer (&d, g_variant_unref);

  assert_results (a, 0, n);
  g_variant_unref (a);
  g_assert_cmpuint (frame_position (f, results_body (0, 2 * n)) % CAPACITY, ==, 0);
}

/* Bodies may be freed in another thread than the one that read them. */
static gpointer
unref_in_thread (gpointer data)
{
  g_variant_unref (data);
  return NULL;
}

static void
test_release_in_other_thread (Fixture       *f,
                              gconstpointer  data)
{
  for (gint64 round = 0; round < 50; round++)
    {
      gsize frame_len;
      GVariant *body = send_and_read (f, results_body (round, 10000), &frame_len);

      g_assert_cmpuint (frame_len, ==, MPIRE_FRAME_HEADER_SIZE + MPIRE_FRAME_SHARED_REF_SIZE);
      assert_results (body, round, 10000);
      g_thread_join (g_thread_new ("unref", unref_in_thread, body));
    }
}

/* A body mapped past the writer's channel keeps its memory. */
static void
test_body_outlives_ring (Fixture       *f,
                         gconstpointer  data)
{
  gsize frame_len;
  g_autoptr(GVariant) body = send_and_read (f, results_body (5, 10000), &frame_len);

  g_clear_pointer (&f->reader, mpire_shared_ring_unref);
  f->reader = mpire_shared_ring_map (f->fd, 0, CAPACITY);
  assert_results (body, 5, 10000);
}

/* What a worker may say about where a body is: nothing it says reads
 * outside the ring or makes the reader trust a region twice. */
static void
test_corrupt_positions (Fixture       *f,
                        gconstpointer  data)
{
  const struct { guint64 position; gsize len; } bad[] = {
    { 0, 0 },                               /* empty */
    { 0, CAPACITY + 8 },                    /* larger than the ring */
    { CAPACITY - 8, 16 },                   /* across its end */
    { G_MAXUINT64 - 7, 16 },                /* across its end, far away */
    { G_MAXUINT64 - 7, 8 },                 /* ending past 2^64: the end wraps */
  };
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GBytes) bytes = mpire_shared_ring_take (f->reader, bad[i].position, bad[i].len,
                                                        &error);
      g_assert_null (bytes);
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
      g_clear_error (&error);
    }

  /* Going back is refused. */
  first = mpire_shared_ring_take (f->reader, 64, 64, &error);
  g_assert_no_error (error);
  g_assert_null (mpire_shared_ring_take (f->reader, 0, 64, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
}

/* A shared frame on a channel without shared memory. */
static void
test_shared_frame_without_ring (Fixture       *f,
                                gconstpointer  data)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (MPIRE_MESSAGE_RESULTS, results_body (0, 10000),
                                                f->writer, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) body = NULL;
  MpireMessageKind kind;

  g_assert_true (mpire_frame_write (f->socket[0], frame, &error));
  g_assert_false (mpire_frame_read (f->socket[1], NULL, &kind, &body, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/mpire/shared-ring/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("large-bodies-go-shared", test_large_bodies_go_shared);
  ADD ("full-ring", test_full_ring);
  ADD ("release-in-other-thread", test_release_in_other_thread);
  ADD ("body-outlives-ring", test_body_outlives_ring);
  ADD ("corrupt-positions", test_corrupt_positions);
  ADD ("shared-frame-without-ring", test_shared_frame_without_ring);
#undef ADD

  return g_test_run ();
}
