/* fuzz-worker.c: a worker's loop fed frames from a pool
 *
 * Input (fuzz_split_frames()): the bytes the pool put in the ring of
 * bodies to the worker (at position 0), then the byte stream the pool
 * sends. mpire_worker_serve() serves that stream over a socketpair, in
 * this thread (as a threading worker does), with the memory a pool would
 * share with it; another thread reads its answers as the pool would, and
 * checks that each parses (a worker only ever sends valid messages).
 *
 * The worker program's tasks: "identity" (returns its arguments as they
 * came), "fail" (an error), "null" (NULL without an error), "typed"
 * (takes and returns an int64) and "shared" (returns the shared objects,
 * if any). With FUZZ_AVOID_KNOWN=1 (fuzz_avoid_known()), they return
 * their values in normal form.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-task.h"
#include "mpire-worker-context.h"
#include "mpire-worker-memory-private.h"
#include "mpire-worker-private.h"

#include "fuzz-common.h"

/* What the stream is cut to, so that it fits in the socket before the
 * worker reads any of it. */
#define STREAM_MAX ((gsize) 64 * 1024)

static GVariant *
identity (MpireWorkerContext  *context,
          GVariant            *args,
          gpointer             user_data,
          GError             **error)
{
  return fuzz_avoid_known () ? g_variant_get_normal_form (args) : g_variant_ref (args);
}

static GVariant *
fail (MpireWorkerContext  *context,
      GVariant            *args,
      gpointer             user_data,
      GError             **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "failed on purpose");
  return NULL;
}

static GVariant *
null (MpireWorkerContext  *context,
      GVariant            *args,
      gpointer             user_data,
      GError             **error)
{
  return NULL;
}

static GVariant *
shared (MpireWorkerContext  *context,
        GVariant            *args,
        gpointer             user_data,
        GError             **error)
{
  GVariant *objects = mpire_worker_context_get_shared_objects (context);

  objects = objects != NULL ? objects : args;
  return fuzz_avoid_known () ? g_variant_get_normal_form (objects) : g_variant_ref (objects);
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* The registry keeps them for the process's life. */
  g_autoptr(MpireTask) identity_task = NULL;
  g_autoptr(MpireTask) fail_task = NULL;
  g_autoptr(MpireTask) null_task = NULL;
  g_autoptr(MpireTask) typed_task = NULL;
  g_autoptr(MpireTask) shared_task = NULL;

  fuzz_init (argc, argv);

  identity_task = mpire_task_new ("identity", identity, NULL, NULL);
  fail_task = mpire_task_new ("fail", fail, NULL, NULL);
  null_task = mpire_task_new ("null", null, NULL, NULL);
  typed_task = mpire_task_new ("typed", identity, NULL, NULL);
  mpire_task_set_args_type (typed_task, G_VARIANT_TYPE_INT64);
  mpire_task_set_result_type (typed_task, G_VARIANT_TYPE_INT64);
  shared_task = mpire_task_new ("shared", shared, NULL, NULL);
  return 0;
}

typedef struct
{
  int                fd;
  MpireSharedRing   *ring;   /* the pool's reading end of the worker's ring */
} Reader;

/* The pool's side: every frame the worker sends must parse. */
static gpointer
read_answers (gpointer data)
{
  Reader *reader = data;

  for (;;)
    {
      MpireMessageKind kind;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;

      if (!mpire_frame_read (reader->fd, reader->ring, &kind, &body, &error))
        {
          /* A worker that stops with frames unread resets the connection. */
          if (error != NULL && error->domain != G_IO_ERROR)
            g_error ("The worker sent a frame that cannot be read: %s", error->message);
          break;
        }
      if (kind != MPIRE_MESSAGE_RESULTS && kind != MPIRE_MESSAGE_PARTIAL &&
          kind != MPIRE_MESSAGE_ERROR && kind != MPIRE_MESSAGE_EXIT_RESULT &&
          kind != MPIRE_MESSAGE_FAILED && kind != MPIRE_MESSAGE_INSIGHTS)
        g_error ("The worker sent a message of kind %d, which only a pool sends", kind);
      if (!fuzz_consume_message (kind, body))
        g_error ("The worker sent a message of kind %d that does not parse", kind);
    }
  return NULL;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzFrames frames;
  int memory_fd = mpire_worker_memory_create (NULL);
  g_autoptr(MpireWorkerMemory) pool_memory = NULL;
  gsize len, done = 0;
  int fds[2];
  Reader reader;
  GThread *thread;

  fuzz_split_frames (data, size, &frames);
  g_assert (memory_fd >= 0);
  pool_memory = mpire_worker_memory_map (memory_fd);
  g_assert (pool_memory != NULL);

  /* The pool's end writes the ring bytes where its first body would go. */
  if (frames.ring_len > 0)
    {
      guint64 position = G_MAXUINT64;
      guint8 *dest = mpire_shared_ring_reserve (pool_memory->to_worker, frames.ring_len,
                                                &position);

      g_assert (dest != NULL && position == 0);
      memcpy (dest, frames.ring, frames.ring_len);
    }

  g_assert (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
  g_assert (fcntl (fds[0], F_SETFL, O_NONBLOCK) == 0);
  len = MIN (frames.stream_len, STREAM_MAX);
  while (done < len)
    {
      gssize n = send (fds[0], frames.stream + done, len - done, MSG_NOSIGNAL);

      if (n <= 0)
        break;
      done += n;
    }
  shutdown (fds[0], SHUT_WR);
  g_assert (fcntl (fds[0], F_SETFL, 0) == 0);

  reader = (Reader) { fds[0], pool_memory->from_worker };
  thread = g_thread_new ("fuzz-pool", read_answers, &reader);
  /* Closes fds[1]. As a thread: a worker process's watch of its pool
   * (a thread polling the channel, which keeps it open) would outlive
   * the call, and the process never ends here to end it. */
  mpire_worker_serve (fds[1], NULL, memory_fd, TRUE);
  g_thread_join (thread);

  close (fds[0]);
  close (memory_fd);
  return 0;
}
