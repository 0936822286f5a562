/* fuzz-frame.c: frame headers and bodies, read both ways a frame is read
 *
 * Input (fuzz_split_frames()): the bytes of a shared ring, then a byte
 * stream of frames. The stream is cut into frames in memory, as the
 * pool's link does (mpire_frame_parse_header(), then
 * mpire_frame_decode_body() or mpire_frame_decode_shared()), then read
 * from a socket with mpire_frame_read(), as a worker does. Each frame's
 * body goes through its kind's parser.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-common.h"

#define RING_CAPACITY ((gsize) 64 * 1024)
/* What a socket takes without a reader; the rest of the stream is left
 * out of the socket path. */
#define SOCKET_STREAM_MAX ((gsize) 64 * 1024)

static int ring_fd = -1;
static guint8 *ring_memory;  /* this process's writable view of it */

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);

  ring_fd = memfd_create ("fuzz-frame", MFD_CLOEXEC);
  g_assert (ring_fd >= 0);
  g_assert (ftruncate (ring_fd, MPIRE_SHARED_RING_MEMORY_SIZE (RING_CAPACITY)) == 0);
  ring_memory = mmap (NULL, MPIRE_SHARED_RING_MEMORY_SIZE (RING_CAPACITY),
                      PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
  g_assert (ring_memory != MAP_FAILED);
  return 0;
}

/* A reading end of a fresh ring holding @frames' ring bytes at position 0. */
static MpireSharedRing *
fresh_ring (const FuzzFrames *frames)
{
  MpireSharedRing *ring;

  memset (ring_memory, 0, MPIRE_SHARED_RING_MEMORY_SIZE (RING_CAPACITY));
  memcpy (ring_memory + MPIRE_SHARED_RING_HEADER_SIZE, frames->ring, frames->ring_len);
  ring = mpire_shared_ring_map (ring_fd, 0, RING_CAPACITY);
  g_assert (ring != NULL);
  return ring;
}

/* As mpire-worker-link.c's parse_frames(). */
static void
read_in_memory (const FuzzFrames *frames)
{
  g_autoptr(MpireSharedRing) ring = fresh_ring (frames);
  gsize pos = 0;

  while (frames->stream_len - pos >= MPIRE_FRAME_HEADER_SIZE)
    {
      MpireMessageKind kind;
      gsize body_len;
      gboolean shared;
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) body = NULL;

      if (!mpire_frame_parse_header (frames->stream + pos, &kind, &body_len, &shared, &error))
        {
          g_assert (error != NULL);
          return;
        }
      g_assert (kind > 0 && kind < MPIRE_MESSAGE_LAST && body_len < MPIRE_FRAME_MAX_BODY);
      if (frames->stream_len - pos - MPIRE_FRAME_HEADER_SIZE < body_len)
        return;
      pos += MPIRE_FRAME_HEADER_SIZE;

      if (shared)
        {
          g_assert (body_len == MPIRE_FRAME_SHARED_REF_SIZE);
          body = mpire_frame_decode_shared (kind, frames->stream + pos, ring, &error);
        }
      else
        {
          g_autoptr(GBytes) bytes = g_bytes_new (frames->stream + pos, body_len);

          body = mpire_frame_decode_body (kind, bytes);
        }
      pos += body_len;
      if (body == NULL)
        {
          g_assert (error != NULL);
          return;
        }
      fuzz_consume_message (kind, body);
    }
}

/* As mpire-worker.c reads. */
static void
read_from_socket (const FuzzFrames *frames)
{
  g_autoptr(MpireSharedRing) ring = fresh_ring (frames);
  gsize len = MIN (frames->stream_len, SOCKET_STREAM_MAX);
  gsize done = 0;
  int fds[2];

  g_assert (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  g_assert (fcntl (fds[0], F_SETFL, O_NONBLOCK) == 0);
  while (done < len)
    {
      gssize n = send (fds[0], frames->stream + done, len - done, MSG_NOSIGNAL);

      if (n <= 0)
        break;
      done += n;
    }
  close (fds[0]);

  for (;;)
    {
      MpireMessageKind kind;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;

      if (!mpire_frame_read (fds[1], ring, &kind, &body, &error))
        {
          g_assert (body == NULL);
          break;
        }
      g_assert (error == NULL && body != NULL);
      fuzz_consume_message (kind, body);
    }
  close (fds[1]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzFrames frames;

  fuzz_split_frames (data, size, &frames);
  read_in_memory (&frames);
  read_from_socket (&frames);
  return 0;
}
