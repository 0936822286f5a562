/* mpire-worker-link.c: the pool's end of one worker
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>

#include "mpire-backend-private.h"
#include "mpire-child-watch-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-worker-link-private.h"
#include "mpire-worker-memory-private.h"

/* States. What the pool asked of the worker (`state`):
 *
 *   LINK_SERVING ──mpire_worker_link_stop(): STOP sent──▶ LINK_STOPPING
 *   LINK_SERVING, LINK_STOPPING ──mpire_worker_link_kill()──▶ LINK_KILLED
 *
 * and how it ended, two events that come in either order: the channel
 * closes (EOF, an error, or our shutdown: `closed`) and the worker is
 * gone (process reaped, thread joined: `exited`). Once both have
 * happened, `gone` is called, once, after every frame the worker wrote
 * before it went has been read; the scheduler frees the link then.
 *
 * A launched worker (mpire-backend-launcher.c) is not `greeted` until
 * its first frame, READY, checked here (its version), has come; any other
 * first frame breaks the link, and a launcher that exits before it breaks
 * it too (the scheduler fails the call, or leaves out a host lost
 * during it). Its BEAT frames fill the link's copy of its heartbeat; the
 * scheduler sees neither kind.
 *
 * Locking: a link is part of its scheduler's state: every field is
 * guarded by the scheduler's lock, which the link's sources (in the
 * scheduler's context) take themselves, and which every function here
 * expects held. */
typedef enum {
  LINK_SERVING,
  LINK_STOPPING,
  LINK_KILLED,
} LinkState;

struct _MpireWorkerLink
{
  int                             id;
  const MpireBackend             *backend;
  gpointer                        handle;
  int                             fd;
  GMutex                         *lock;
  const MpireWorkerLinkCallbacks *callbacks;
  gpointer                        data;
  gint64                          started_at; /* monotonic µs */

  GSource                        *in_source;
  GSource                        *out_source;
  GByteArray                     *inbuf;
  GQueue                          outq;       /* GBytes frames to send */
  gsize                           out_offset; /* sent bytes of the head */
  GQueue                          chunks;     /* the pool's, in flight here */
  int                             memory_fd;
  MpireWorkerMemory              *memory;     /* shared with the worker */
  guint64                         n_tasks_done;
  gint64                          task_timeout; /* killed thread: µs its task may run */

  LinkState                       state;
  gboolean                        closed;
  gboolean                        exited;
  int                             wait_status;
  gboolean                        greeted;    /* a launched worker's READY came */
  char                           *host;       /* the launched worker's host, or NULL */
  char                           *launcher;   /* the launcher prefix ("ssh node1"), or NULL */
  gint64                          clock_offset; /* the pool's monotonic clock minus the
                                                   launched worker's (µs), 0 for others */
};

static void link_close (MpireWorkerLink *self);

/* A launched worker that did not greet the pool with READY as its first
 * frame: not an mpire-glib worker, or the launcher's own output. */
static void
set_not_greeted_error (MpireWorkerLink  *self,
                       GError          **error)
{
  g_clear_error (error);
  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
               _("Worker %d did not answer as an mpire-glib %s worker: it is of another "
                 "version, or not an mpire-glib worker, or its launcher wrote to its "
                 "standard output"),
               self->id, PACKAGE_VERSION);
}

/* The handshake and heartbeat of a launched worker, which shares no
 * memory with the pool: its READY frame comes first, and its BEAT frames
 * fill the pool's copy of its heartbeat. */
static gboolean
receive_launched (MpireWorkerLink   *self,
                  MpireMessageKind   kind,
                  GVariant          *body,
                  GError           **error)
{
  if (!self->greeted)
    {
      MpireReadyMessage ready;

      /* A monotonic clock past 2^60 µs is no clock: its offset could overflow. */
      if (kind != MPIRE_MESSAGE_READY || !mpire_message_ready_parse (body, &ready, NULL) ||
          ready.now < 0 || ready.now > ((gint64) 1 << 60))
        {
          set_not_greeted_error (self, error);
          return FALSE;
        }
      if (!g_str_equal (ready.version, PACKAGE_VERSION))
        {
          g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                       _("Worker %d on host “%s” (process %s) runs mpire-glib %s, but this "
                         "pool runs mpire-glib %s: install the same version on both sides"),
                       self->id, ready.host, ready.pid, ready.version, PACKAGE_VERSION);
          return FALSE;
        }
      self->host = g_strdup (ready.host);
      self->clock_offset = g_get_monotonic_time () - ready.now;
      self->greeted = TRUE;
      return TRUE;
    }

  if (kind == MPIRE_MESSAGE_READY)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Worker %d greeted the pool twice"), self->id);
      return FALSE;
    }
  if (kind == MPIRE_MESSAGE_BEAT)
    {
      MpireBeatMessage beat;

      if (!mpire_message_beat_parse (body, &beat, error))
        return FALSE;
      /* The pool's clock: the worker's may be another host's. */
      if (beat.running)
        mpire_heartbeat_task_start (self->memory->heartbeat, beat.chunk_id, beat.index,
                                    beat.timed);
      else
        mpire_heartbeat_task_end (self->memory->heartbeat);
    }
  return TRUE;
}

static const MpireBackend *
backend_for (MpireStartMethod            method,
             const MpireWorkerStartInfo *info)
{
  if (info->launcher != NULL)
    return mpire_backend_launcher ();

  switch (method)
    {
    case MPIRE_START_METHOD_FORK:
      return mpire_backend_fork ();
    case MPIRE_START_METHOD_THREADING:
      return mpire_backend_threading ();
    case MPIRE_START_METHOD_FORKSERVER:
      return mpire_backend_forkserver ();
    case MPIRE_START_METHOD_SPAWN:
    default:
      return mpire_backend_spawn ();
    }
}

static void fail (MpireWorkerLink *self,
                  const GError    *error);

/* A launched worker whose launcher exits before the worker's READY
 * never ran: the call fails with the launcher's status rather than
 * starting it again and again (ssh exits with 255 when it cannot
 * connect). One killed by a signal died as any worker may: the pool
 * replaces it. */
static void
maybe_gone (MpireWorkerLink *self)
{
  if (!self->closed || !self->exited)
    return;
  if (!self->greeted && self->state == LINK_SERVING && WIFEXITED (self->wait_status))
    {
      g_autofree char *status = mpire_describe_wait_status (self->wait_status);
      g_autoptr(GError) error =
        g_error_new (MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                     _("Worker %d %s before it greeted the pool: its launcher “%s” failed "
                       "(see its messages on standard error), or the worker program does "
                       "not call mpire_init()"),
                     self->id, status, self->launcher);

      fail (self, error);
    }
  self->callbacks->gone (self, self->wait_status, self->data);
}

/* The pool kills the link on `broken`. */
static void
fail (MpireWorkerLink *self,
      const GError    *error)
{
  self->callbacks->broken (self, error, self->data);
}

/* Hands every complete frame of the input buffer to the pool. Returns
 * FALSE if the link broke. */
static gboolean
parse_frames (MpireWorkerLink *self)
{
  gsize pos = 0;
  gboolean ok = TRUE;

  while (!self->closed && self->inbuf->len - pos >= MPIRE_FRAME_HEADER_SIZE)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GVariant) body = NULL;
      MpireMessageKind kind;
      gsize body_len;
      gboolean shared;
      const guint8 *body_data;

      if (!mpire_frame_parse_header (self->inbuf->data + pos, &kind, &body_len, &shared, &error) ||
          (shared && self->backend->is_launched))
        {
          if (!self->greeted)
            set_not_greeted_error (self, &error);
          else if (error == NULL)
            g_set_error (&error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                         _("Worker %d sent a frame through memory it does not share "
                           "with the pool"), self->id);
          fail (self, error);
          ok = FALSE;
          break;
        }
      if (self->inbuf->len - pos - MPIRE_FRAME_HEADER_SIZE < body_len)
        break;

      body_data = self->inbuf->data + pos + MPIRE_FRAME_HEADER_SIZE;
      pos += MPIRE_FRAME_HEADER_SIZE + body_len;
      if (shared)
        body = mpire_frame_decode_shared (kind, body_data, self->memory->from_worker, &error);
      else
        {
          /* Copied into its own allocation, which GVariant needs aligned. */
          bytes = g_bytes_new (body_data, body_len);
          body = mpire_frame_decode_body (kind, bytes);
        }
      if (body == NULL)
        {
          if (!self->greeted)
            set_not_greeted_error (self, &error);
          fail (self, error);
          ok = FALSE;
          break;
        }
      if (self->backend->is_launched && !receive_launched (self, kind, body, &error))
        {
          fail (self, error);
          ok = FALSE;
          break;
        }
      /* (From a local worker, they are of an unexpected kind.) */
      if (!self->backend->is_launched ||
          (kind != MPIRE_MESSAGE_READY && kind != MPIRE_MESSAGE_BEAT))
        self->callbacks->frame (self, kind, body, self->data);
    }

  if (pos > 0 && self->inbuf != NULL)
    g_byte_array_remove_range (self->inbuf, 0, pos);
  return ok;
}

/* Reads what is there now. Returns FALSE at end of stream or on error. */
static gboolean
read_available (MpireWorkerLink *self)
{
  guint8 buf[65536];

  for (;;)
    {
      gssize n = read (self->fd, buf, sizeof buf);

      if (n > 0)
        {
          g_byte_array_append (self->inbuf, buf, n);
          if (!parse_frames (self))
            return FALSE;
          continue;
        }
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      /* A launched worker's frames cross its launcher (srun, ssh), which
       * may pass one on in pieces: a channel that ends in the middle of
       * one is a lost connection, the worker's death (see `gone`). */
      if (n == 0 && self->inbuf->len > 0 && self->state == LINK_SERVING &&
          !self->backend->is_launched)
        {
          g_autoptr(GError) error =
            g_error_new (MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                         _("Worker %d closed its channel in the middle of a message"), self->id);
          fail (self, error);
        }
      return FALSE;
    }
}

static gboolean
on_readable (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  MpireWorkerLink *self = user_data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (self->lock);

  if (self->closed)
    return G_SOURCE_REMOVE;

  if (!read_available (self))
    {
      /* The worker went away (or broke): make sure it does not linger,
       * without taking it for a worker the pool told to go. */
      if (self->state == LINK_SERVING && !self->exited)
        self->backend->kill (self->handle);
      link_close (self);
      maybe_gone (self);
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* Writes queued frames until done or the socket is full. */
static gboolean
flush_output (MpireWorkerLink *self)
{
  while (!g_queue_is_empty (&self->outq))
    {
      GBytes *head = g_queue_peek_head (&self->outq);
      gsize len;
      const guint8 *data = g_bytes_get_data (head, &len);
      gssize n = send (self->fd, data + self->out_offset, len - self->out_offset, MSG_NOSIGNAL);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return TRUE;
      if (n < 0)
        {
          /* The worker is gone; reading tells why. */
          g_queue_clear_full (&self->outq, (GDestroyNotify) g_bytes_unref);
          self->out_offset = 0;
          return FALSE;
        }

      self->out_offset += n;
      if (self->out_offset == len)
        {
          g_bytes_unref (g_queue_pop_head (&self->outq));
          self->out_offset = 0;
        }
    }

  return FALSE;
}

static gboolean
on_writable (int          fd,
             GIOCondition condition,
             gpointer     user_data)
{
  MpireWorkerLink *self = user_data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (self->lock);

  if (flush_output (self))
    return G_SOURCE_CONTINUE;

  g_clear_pointer (&self->out_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_exited (int      wait_status,
           gpointer data)
{
  MpireWorkerLink *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (self->lock);

  self->exited = TRUE;
  self->wait_status = wait_status;

  /* Whatever the worker wrote before it went is in the socket now. */
  if (!self->closed)
    {
      read_available (self);
      link_close (self);
    }
  maybe_gone (self);
}

static void
link_close (MpireWorkerLink *self)
{
  if (self->closed)
    return;

  self->closed = TRUE;
  if (self->in_source != NULL)
    {
      g_source_destroy (self->in_source);
      g_clear_pointer (&self->in_source, g_source_unref);
    }
  if (self->out_source != NULL)
    {
      g_source_destroy (self->out_source);
      g_clear_pointer (&self->out_source, g_source_unref);
    }
  g_queue_clear_full (&self->outq, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&self->inbuf, g_byte_array_unref);
  close (self->fd);
  self->fd = -1;
}

MpireWorkerLink *
mpire_worker_link_start (MpireStartMethod                method,
                         const MpireWorkerStartInfo     *info,
                         GMutex                         *lock,
                         GMainContext                   *context,
                         const MpireWorkerLinkCallbacks *callbacks,
                         gpointer                        data,
                         GError                        **error)
{
  MpireWorkerLink *self;
  MpireWorkerMemory *memory;
  int memory_fd;
  int fds[2];

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int saved_errno = errno;
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not create a channel for worker %d: %s"),
                   info->worker_id, g_strerror (saved_errno));
      return NULL;
    }

  memory_fd = mpire_worker_memory_create (error);
  memory = memory_fd >= 0 ? mpire_worker_memory_map (memory_fd) : NULL;
  if (memory == NULL)
    {
      if (memory_fd >= 0)
        {
          close (memory_fd);
          g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                       _("Could not map the memory shared with worker %d"), info->worker_id);
        }
      close (fds[0]);
      close (fds[1]);
      return NULL;
    }

  self = g_new0 (MpireWorkerLink, 1);
  self->memory_fd = memory_fd;
  self->memory = memory;
  self->id = info->worker_id;
  self->started_at = g_get_monotonic_time ();
  self->backend = backend_for (method, info);
  self->greeted = !self->backend->is_launched;
  self->launcher = info->launcher != NULL ? g_strjoinv (" ", (char **) info->launcher) : NULL;
  self->fd = fds[0];
  self->lock = lock;
  self->callbacks = callbacks;
  self->data = data;
  self->inbuf = g_byte_array_new ();
  g_queue_init (&self->outq);
  g_queue_init (&self->chunks);

  {
    MpireWorkerStartInfo with_fd = *info;

    with_fd.pool_fd = fds[0];
    with_fd.memory_fd = memory_fd;
    self->handle = self->backend->start (&with_fd, fds[1], error);
  }
  if (self->handle == NULL)
    {
      close (fds[0]);
      mpire_worker_memory_free (memory);
      close (memory_fd);
      g_byte_array_unref (self->inbuf);
      g_free (self->launcher);
      g_free (self);
      return NULL;
    }

  g_unix_set_fd_nonblocking (self->fd, TRUE, NULL);
  self->in_source = g_unix_fd_source_new (self->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (self->in_source, G_SOURCE_FUNC (on_readable), self, NULL);
  g_source_set_static_name (self->in_source, "[mpire] worker input");
  g_source_attach (self->in_source, context);

  self->backend->watch (self->handle, context, on_exited, self);

  return self;
}

int
mpire_worker_link_get_id (MpireWorkerLink *self)
{
  return self->id;
}

int
mpire_worker_link_get_fd (MpireWorkerLink *self)
{
  return self->fd;
}

/* When the pool started the worker (monotonic µs). */
gint64
mpire_worker_link_get_start_time (MpireWorkerLink *self)
{
  return self->started_at;
}

/* What turns the worker's monotonic times into the pool's: it may run
 * on another host (measured at its READY, so it errs by that frame's
 * latency, to the late side). */
gint64
mpire_worker_link_get_clock_offset (MpireWorkerLink *self)
{
  return self->clock_offset;
}

/* How the worker ended, from its wait status ("exited with status 3"),
 * with its host and launcher when it was launched ("... on host
 * “node1”, launched by “ssh node1”"): a lost host names itself, also
 * where several share a host name (containers, namespaces). */
char *
mpire_worker_link_describe_end (MpireWorkerLink *self,
                                int              wait_status)
{
  g_autofree char *status = mpire_describe_wait_status (wait_status);

  if (self->host == NULL)
    return g_steal_pointer (&status);
  /* TRANSLATORS: the first %s is how a worker ended ("exited with
   * status 3"), the second the host it ran on, the third the command
   * that started it there ("ssh node1"). */
  return g_strdup_printf (_("%s on host “%s”, launched by “%s”"), status, self->host,
                          self->launcher);
}

/* Whether the worker was launched and its launcher ended before the
 * worker greeted the pool: it never ran (ssh could not reach its host). */
gboolean
mpire_worker_link_never_reached (MpireWorkerLink *self)
{
  return !self->greeted && self->exited && WIFEXITED (self->wait_status);
}

gboolean
mpire_worker_link_is_process (MpireWorkerLink *self)
{
  return self->backend->is_process;
}

/* The chunks given to the worker, in the order it runs them: the first
 * is the one running (or about to). The link owns them until they are
 * taken back. */

/* Gives @chunk to the worker. Its size was checked when it was made. */
void
mpire_worker_link_send_chunk (MpireWorkerLink *self,
                              MpireChunk      *chunk)
{
  g_queue_push_tail (&self->chunks, chunk);
  mpire_worker_link_send (self, MPIRE_MESSAGE_TASKS, chunk->body, NULL);
}

guint
mpire_worker_link_get_n_chunks (MpireWorkerLink *self)
{
  return g_queue_get_length (&self->chunks);
}

/* The chunk running, or %NULL. */
MpireChunk *
mpire_worker_link_peek_chunk (MpireWorkerLink *self)
{
  return g_queue_peek_head (&self->chunks);
}

/* Takes back the chunk running, or %NULL. */
MpireChunk *
mpire_worker_link_take_chunk (MpireWorkerLink *self)
{
  return g_queue_pop_head (&self->chunks);
}

/* Takes back the chunk running if the worker answered it (@id). */
MpireChunk *
mpire_worker_link_take_answered_chunk (MpireWorkerLink  *self,
                                       guint64           id,
                                       GError          **error)
{
  MpireChunk *chunk = g_queue_peek_head (&self->chunks);

  if (chunk == NULL || chunk->id != id)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                   _("Worker %d answered a chunk of tasks it was not running"), self->id);
      return NULL;
    }
  return g_queue_pop_head (&self->chunks);
}

/* The lifecycle task (MPIRE_HEARTBEAT_WORKER_INIT or _EXIT) the worker
 * died in, or 0 (none, or the pool killed it). */
guint64
mpire_worker_link_died_in_lifecycle_task (MpireWorkerLink *self)
{
  guint64 chunk_id;
  guint32 index;
  gint64 started;

  if (self->state == LINK_KILLED ||
      !mpire_heartbeat_read (self->memory->heartbeat, &chunk_id, &index, &started) ||
      (chunk_id != MPIRE_HEARTBEAT_WORKER_INIT && chunk_id != MPIRE_HEARTBEAT_WORKER_EXIT))
    return 0;
  return chunk_id;
}

/* Puts back @chunk, taken with mpire_worker_link_take_chunk(). */
void
mpire_worker_link_untake_chunk (MpireWorkerLink *self,
                                MpireChunk      *chunk)
{
  g_queue_push_head (&self->chunks, chunk);
}

/* Takes back the last chunk given, or %NULL. */
MpireChunk *
mpire_worker_link_take_last_chunk (MpireWorkerLink *self)
{
  return g_queue_pop_tail (&self->chunks);
}

/* A killed thread runs on until its task returns: the call that killed
 * it waits for that task as long as it is within @timeout (µs, or 0:
 * until it returns). */
void
mpire_worker_link_set_task_timeout (MpireWorkerLink *self,
                                    gint64           timeout)
{
  self->task_timeout = timeout;
}

gint64
mpire_worker_link_get_task_timeout (MpireWorkerLink *self)
{
  return self->task_timeout;
}

/* Frees the chunks of @job; returns whether there were any. */
gboolean
mpire_worker_link_drop_chunks_of (MpireWorkerLink *self,
                                  gpointer         job)
{
  return mpire_chunk_queue_drop_job (&self->chunks, job);
}

/* The tasks the worker ran and was given. */
guint64
mpire_worker_link_count_tasks_given (MpireWorkerLink *self)
{
  guint64 n = self->n_tasks_done;

  for (GList *l = self->chunks.head; l != NULL; l = l->next)
    n += ((MpireChunk *) l->data)->n_tasks;
  return n;
}

MpireHeartbeat *
mpire_worker_link_get_heartbeat (MpireWorkerLink *self)
{
  return self->memory->heartbeat;
}

/* Adds @n_done tasks to those the worker ran. */
void
mpire_worker_link_count_tasks (MpireWorkerLink *self,
                               guint64          n_done)
{
  self->n_tasks_done += n_done;
}

/* Queues the message @body (floating or not) of @kind for the worker;
 * a large body goes through the shared memory when there is room. Fails
 * only for a body too large for a frame. */
gboolean
mpire_worker_link_send (MpireWorkerLink   *self,
                        MpireMessageKind   kind,
                        GVariant          *body,
                        GError           **error)
{
  GBytes *frame;

  if (self->closed)
    {
      g_variant_unref (g_variant_ref_sink (body));
      return TRUE;
    }

  frame = mpire_frame_encode (kind, body,
                              self->backend->is_launched ? NULL : self->memory->to_worker, error);
  if (frame == NULL)
    return FALSE;
  g_queue_push_tail (&self->outq, frame);
  if (self->out_source != NULL)
    return TRUE;

  if (flush_output (self))
    {
      self->out_source = g_unix_fd_source_new (self->fd, G_IO_OUT);
      g_source_set_callback (self->out_source, G_SOURCE_FUNC (on_writable), self, NULL);
      g_source_set_static_name (self->out_source, "[mpire] worker output");
      g_source_attach (self->out_source, g_source_get_context (self->in_source));
    }
  return TRUE;
}

/* Whether the pool told the worker to go (stop or kill). */
gboolean
mpire_worker_link_is_stopping (MpireWorkerLink *self)
{
  return self->state != LINK_SERVING;
}

gboolean
mpire_worker_link_is_killed (MpireWorkerLink *self)
{
  return self->state == LINK_KILLED;
}

/* Asks the worker to finish what it has and exit. */
void
mpire_worker_link_stop (MpireWorkerLink *self)
{
  if (self->state != LINK_SERVING)
    return;

  mpire_worker_link_send (self, MPIRE_MESSAGE_STOP, mpire_message_stop_new (), NULL);
  self->state = LINK_STOPPING;
}

/* Ends the worker now: SIGKILL for a process; a thread stops after its
 * current task, which it finds in the heartbeat (or once it finds its
 * channel shut). */
void
mpire_worker_link_kill (MpireWorkerLink *self)
{
  self->state = LINK_KILLED;
  mpire_heartbeat_request_stop (self->memory->heartbeat);
  if (!self->exited)
    self->backend->kill (self->handle);
  if (!self->closed)
    shutdown (self->fd, SHUT_RDWR);
}

static void
free_abandoned (gpointer data)
{
  MpireWorkerLink *self = data;

  g_queue_clear_full (&self->chunks, (GDestroyNotify) mpire_chunk_free);
  mpire_worker_memory_free (self->memory);
  close (self->memory_fd);
  g_free (self->host);
  g_free (self->launcher);
  g_free (self);
}

static gboolean
nothing_more (gpointer data)
{
  return G_SOURCE_REMOVE;
}

/* A killed thread that runs on past a timeout: the pool waits for it no
 * more. Returns FALSE if it has ended already (its end comes as usual);
 * otherwise closes the link and frees it in the pool's thread, after
 * any of its sources that may be dispatching there (waiting for the
 * lock), and the thread frees what it uses when its task returns. */
gboolean
mpire_worker_link_abandon (MpireWorkerLink *self)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GSource) source = NULL;

  g_assert (self->state == LINK_KILLED);

  if (self->exited || self->backend->abandon == NULL || !self->backend->abandon (self->handle))
    return FALSE;
  if (self->in_source != NULL && g_source_get_context (self->in_source) != NULL)
    context = g_main_context_ref (g_source_get_context (self->in_source));
  link_close (self);
  if (context == NULL)
    {
      free_abandoned (self);
      return TRUE;
    }

  /* Freed when the source goes: after it runs, or with the context. */
  source = g_idle_source_new ();
  g_source_set_callback (source, nothing_more, self, free_abandoned);
  g_source_set_static_name (source, "[mpire] free an abandoned link");
  g_source_attach (source, context);
  return TRUE;
}

void
mpire_worker_link_free (MpireWorkerLink *self)
{
  g_assert (self->closed && self->exited);
  g_assert (g_queue_is_empty (&self->chunks));

  self->backend->free (self->handle);
  mpire_worker_memory_free (self->memory);
  close (self->memory_fd);
  g_free (self->host);
  g_free (self->launcher);
  g_free (self);
}
