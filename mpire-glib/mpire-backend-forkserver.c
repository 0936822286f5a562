/* mpire-backend-forkserver.c: workers forked by a fork server
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib-unix.h>

#include "mpire-backend-private.h"
#include "mpire-child-watch-private.h"
#include "mpire-error.h"
#include "mpire-fork-server-private.h"
#include "mpire-i18n-private.h"
#include "mpire-worker-private.h"

/* The pool spawns the server as it would spawn a worker (the same program
 * and arguments), giving it one end of a SOCK_SEQPACKET socket pair in
 * place of a worker channel. In mpire_init() the server, still
 * single-threaded, loops on that socket: for each request it receives the
 * new worker's channel and shared-memory fds, forks, closes them, and answers
 * with the child's pid. It reaps its children and sends each one's wait
 * status, since the pool cannot reap its grandchildren. A worker holds
 * only its own fds: not the control socket, not another worker's channel.
 *
 * The pool reads the socket only with its lock held: the thread starting
 * a worker waits there for the answer, the pool's thread reads the exits
 * that come in between. An exit reaches its link from an idle source in
 * the pool's context, as it would from a child watch. */

/* How long a server told to stop may take to exit before it is killed. */
#define STOP_GRACE_MS 5000

/* pool → server; SCM_RIGHTS: the worker's channel and shared-memory fds */
typedef struct
{
  guint8    has_cpus;
  cpu_set_t cpus;
} Request;

typedef enum
{
  REPLY_STARTED = 1,   /* pid: the new worker */
  REPLY_FAILED,        /* value: fork()'s errno */
  REPLY_EXITED,        /* pid exited, value: its wait status */
} ReplyKind;

/* server → pool */
typedef struct
{
  gint32 kind;
  gint32 pid;
  gint32 value;
} Reply;

/* ---- the pool's side ---------------------------------------------------- */

/* Memory: an atomic reference-counted box, held by the users together
 * (n_users) and by the socket's source, which may be finalized after the
 * last user is gone. */
struct _MpireForkServer
{
  guint         n_users;
  GPid          pid;
  int           fd;          /* -1 once the server is gone */
  int           wait_status; /* how it ended, once gone */
  gboolean      malformed;   /* it was killed for sending garbage */
  char         *program;
  GMutex       *lock;
  GSource      *source;
  GHashTable   *workers;     /* pid → ForkedWorker not yet reaped */
};

/* A backend handle: one worker forked by the server. */
typedef struct
{
  MpireForkServer      *server;  /* one of its users */
  GPid                  pid;
  gboolean              ended;
  int                   wait_status;
  GMainContext         *context;
  MpireChildExitedFunc  exited;
  gpointer              data;
} ForkedWorker;

static gboolean
deliver_exit (gpointer data)
{
  ForkedWorker *worker = data;

  worker->exited (worker->wait_status, worker->data);
  return G_SOURCE_REMOVE;
}

static void
deliver_later (ForkedWorker *worker)
{
  mpire_backend_post_exit (worker->context, deliver_exit, worker, "[mpire] forked worker exit");
}

static void
worker_ended (ForkedWorker *worker,
              int           wait_status)
{
  worker->ended = TRUE;
  worker->wait_status = wait_status;
  if (worker->exited != NULL)
    deliver_later (worker);
}

/* Whether @pid exited within @timeout_ms. */
static gboolean
wait_for_exit (GPid pid,
               int  timeout_ms)
{
#ifdef SYS_pidfd_open
  int pidfd = (int) syscall (SYS_pidfd_open, pid, 0);
  struct pollfd pfd = { pidfd, POLLIN, 0 };
  int n;

  if (pidfd < 0)
    return FALSE;
  do
    n = poll (&pfd, 1, timeout_ms);
  while (n < 0 && errno == EINTR);
  close (pidfd);
  return n > 0;
#else
  return FALSE;
#endif
}

/* Closes the socket, which tells the server to exit (or kills it), and
 * reaps it. Its workers die with it (PR_SET_PDEATHSIG): they are reported
 * as such, since their wait status is out of the pool's reach. */
static void
end_server (MpireForkServer *self,
            gboolean         kill_now)
{
  GHashTableIter iter;
  gpointer worker;
  int status;

  if (self->fd < 0)
    return;

  g_source_destroy (self->source);
  g_clear_pointer (&self->source, g_source_unref);
  /* shutdown(): a copy of this fd in a FORK worker of another pool must
   * not keep the server waiting. */
  shutdown (self->fd, SHUT_RDWR);
  close (self->fd);
  self->fd = -1;

  if (kill_now || !wait_for_exit (self->pid, STOP_GRACE_MS))
    kill (self->pid, SIGKILL);
  while (waitpid (self->pid, &status, 0) < 0)
    if (errno != EINTR)
      {
        status = MPIRE_WAIT_STATUS_UNKNOWN;
        break;
      }
  self->wait_status = status;

  g_hash_table_iter_init (&iter, self->workers);
  while (g_hash_table_iter_next (&iter, NULL, &worker))
    worker_ended (worker, MPIRE_WAIT_STATUS_FORK_SERVER_LOST);
  g_hash_table_remove_all (self->workers);
}

/* Reads one reply: returns 1, or 0 when none is there yet (with
 * MSG_DONTWAIT in @flags), or -1 once the server is gone. */
static int
receive (MpireForkServer *self,
         int              flags,
         Reply           *reply)
{
  gssize n;

  if (self->fd < 0)
    return -1;

  do
    n = recv (self->fd, reply, sizeof *reply, flags | MSG_TRUNC);
  while (n < 0 && errno == EINTR);

  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
    return 0;
  if (n == sizeof *reply && reply->kind >= REPLY_STARTED && reply->kind <= REPLY_EXITED)
    return 1;

  self->malformed = n > 0;
  end_server (self, self->malformed);
  return -1;
}

static void
handle_exit (MpireForkServer *self,
             const Reply     *reply)
{
  ForkedWorker *worker = g_hash_table_lookup (self->workers, GINT_TO_POINTER (reply->pid));

  if (worker == NULL)
    return;
  g_hash_table_remove (self->workers, GINT_TO_POINTER (reply->pid));
  worker_ended (worker, reply->value);
}

/* Exits reported while no worker is being started. */
static gboolean
on_readable (int          fd,
             GIOCondition condition,
             gpointer     data)
{
  MpireForkServer *self = data;
  g_autoptr(GMutexLocker) locker = g_mutex_locker_new (self->lock);
  Reply reply;

  if (g_source_is_destroyed (g_main_current_source ()))
    return G_SOURCE_REMOVE;

  while (receive (self, MSG_DONTWAIT, &reply) > 0)
    {
      /* Other replies only ever answer a request. */
      if (reply.kind != REPLY_EXITED)
        {
          self->malformed = TRUE;
          end_server (self, TRUE);
          break;
        }
      handle_exit (self, &reply);
    }

  return self->fd >= 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
clear_server (gpointer data)
{
  MpireForkServer *self = data;

  g_free (self->program);
  g_hash_table_unref (self->workers);
}

static void
release_server (gpointer data)
{
  g_atomic_rc_box_release_full (data, clear_server);
}

MpireForkServer *
mpire_fork_server_new (const char * const  *argv,
                       GMutex              *lock,
                       GMainContext        *context,
                       GError             **error)
{
  const char * const env_names[] = { MPIRE_FORK_SERVER_FD_ENV };
  g_autoptr(GError) local_error = NULL;
  MpireForkServer *self;
  int fds[2];
  GPid pid = 0;
  gboolean spawned;

  if (socketpair (AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
    {
      int saved_errno = errno;

      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not create a socket for the fork server: %s"),
                   g_strerror (saved_errno));
      return NULL;
    }

  spawned = mpire_spawn_with_fds (argv, &fds[1], env_names, 1, &pid, &local_error);
  close (fds[1]);
  if (!spawned)
    {
      close (fds[0]);
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("Could not start the fork server (“%s”): %s"),
                   argv[0], local_error->message);
      return NULL;
    }

  self = g_atomic_rc_box_new0 (MpireForkServer);
  self->n_users = 1;
  self->pid = pid;
  self->fd = fds[0];
  self->program = g_strdup (argv[0]);
  self->lock = lock;
  self->workers = g_hash_table_new (NULL, NULL);
  self->source = g_unix_fd_source_new (self->fd, G_IO_IN | G_IO_HUP | G_IO_ERR);
  g_source_set_callback (self->source, G_SOURCE_FUNC (on_readable),
                         g_atomic_rc_box_acquire (self), release_server);
  g_source_set_static_name (self->source, "[mpire] fork server");
  g_source_attach (self->source, context);

  return self;
}

gboolean
mpire_fork_server_is_running (MpireForkServer *self)
{
  return self->fd >= 0;
}

/* Whether the server is gone, SIGKILLed (by someone else: the
 * out-of-memory killer, say) rather than ended on its own. */
gboolean
mpire_fork_server_was_killed (MpireForkServer *self)
{
  return self->fd < 0 && WIFSIGNALED (self->wait_status) && WTERMSIG (self->wait_status) == SIGKILL;
}

void
mpire_fork_server_unref (MpireForkServer *self)
{
  if (--self->n_users > 0)
    return;

  end_server (self, FALSE);
  release_server (self);
}

static gboolean
send_request (MpireForkServer *self,
              const Request   *request,
              int              channel_fd,
              int              memory_fd)
{
  const int fds[] = { channel_fd, memory_fd };
  union {
    struct cmsghdr header;
    char           buf[CMSG_SPACE (sizeof fds)];
  } control;
  struct iovec iov = { (void *) request, sizeof *request };
  struct msghdr msg = { 0 };
  struct cmsghdr *cmsg;
  gssize n;

  memset (&control, 0, sizeof control);
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  cmsg = CMSG_FIRSTHDR (&msg);
  cmsg->cmsg_level = SOL_SOCKET;
  cmsg->cmsg_type = SCM_RIGHTS;
  cmsg->cmsg_len = CMSG_LEN (sizeof fds);
  memcpy (CMSG_DATA (cmsg), fds, sizeof fds);

  do
    n = sendmsg (self->fd, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);

  if (n == sizeof *request)
    return TRUE;
  end_server (self, FALSE);
  return FALSE;
}

static void
set_server_lost_error (MpireForkServer  *self,
                       int               worker_id,
                       GError          **error)
{
  g_autofree char *status = mpire_describe_wait_status (self->wait_status);

  if (self->malformed)
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL,
                 _("The fork server (“%s”) sent a malformed message and was killed, so "
                   "worker %d could not be started"),
                 self->program, worker_id);
  else if (WIFEXITED (self->wait_status))
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                 _("The fork server (“%s”) %s, so worker %d could not be started; the "
                   "program must create its tasks and call mpire_init() before anything "
                   "else"),
                 self->program, status, worker_id);
  else
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                 _("The fork server (“%s”) %s, so worker %d could not be started"),
                 self->program, status, worker_id);
}

static gpointer
forkserver_start (const MpireWorkerStartInfo  *info,
                  int                          child_fd,
                  GError                     **error)
{
  MpireForkServer *server = info->fork_server;
  ForkedWorker *worker;
  Request request;
  Reply reply;
  int got = -1;

  memset (&request, 0, sizeof request);
  if (info->cpus != NULL)
    {
      request.has_cpus = TRUE;
      request.cpus = *info->cpus;
    }

  if (send_request (server, &request, child_fd, info->memory_fd))
    while ((got = receive (server, 0, &reply)) > 0 && reply.kind == REPLY_EXITED)
      handle_exit (server, &reply);
  /* The pool must not keep the worker's end: it would never see EOF. */
  close (child_fd);

  if (got <= 0)
    {
      set_server_lost_error (server, info->worker_id, error);
      return NULL;
    }
  if (reply.kind == REPLY_FAILED)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_WORKER_START,
                   _("The fork server could not fork worker %d: %s"),
                   info->worker_id, g_strerror (reply.value));
      return NULL;
    }

  worker = g_new0 (ForkedWorker, 1);
  worker->server = server;
  server->n_users++;
  worker->pid = reply.pid;
  g_hash_table_insert (server->workers, GINT_TO_POINTER (worker->pid), worker);
  return worker;
}

static void
forkserver_watch (gpointer       handle,
                  GMainContext  *context,
                  void         (*exited) (int wait_status, gpointer data),
                  gpointer       data)
{
  ForkedWorker *worker = handle;

  worker->context = context;
  worker->exited = exited;
  worker->data = data;
  if (worker->ended)
    deliver_later (worker);
}

/* Not reaped yet by the server, so the pid is still the worker's (but
 * for the moment between the server's reaping and its report). */
static void
forkserver_kill (gpointer handle)
{
  ForkedWorker *worker = handle;

  if (!worker->ended)
    kill (worker->pid, SIGKILL);
}

static void
forkserver_free (gpointer handle)
{
  ForkedWorker *worker = handle;

  mpire_fork_server_unref (worker->server);
  g_free (worker);
}

const MpireBackend *
mpire_backend_forkserver (void)
{
  static const MpireBackend backend = {
    forkserver_start, forkserver_watch, forkserver_kill, forkserver_free, NULL, TRUE,
  };

  return &backend;
}

/* ---- the server --------------------------------------------------------- */

static gboolean
send_reply (int       fd,
            ReplyKind kind,
            pid_t     pid,
            int       value)
{
  const Reply reply = { kind, pid, value };
  gssize n;

  do
    n = send (fd, &reply, sizeof reply, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == sizeof reply;
}

/* Reaps every child that ended and tells the pool. */
static gboolean
report_exits (int fd)
{
  pid_t pid;
  int status;

  while ((pid = waitpid (-1, &status, WNOHANG)) > 0)
    if (!send_reply (fd, REPLY_EXITED, pid, status))
      return FALSE;
  return TRUE;
}

/* In the new child: becomes the worker, as a spawned one would. */
G_NORETURN static void
run_worker (pid_t              server,
            int                fd,
            int                signal_fd,
            const sigset_t    *worker_mask,
            const int         *fds,
            const Request     *request)
{
  /* Killed if the server dies; it may have died already. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != server)
    _exit (EXIT_FAILURE);

  sigprocmask (SIG_SETMASK, worker_mask, NULL);
  close (signal_fd);
  close (fd);
  if (request->has_cpus)
    sched_setaffinity (0, sizeof (cpu_set_t), &request->cpus);
  mpire_worker_serve_process (fds[0], fds[1]);
}

/* Forks the worker of one request. Returns FALSE when the pool is gone. */
static gboolean
serve_request (pid_t           server,
               int             fd,
               int             signal_fd,
               const sigset_t *worker_mask)
{
  Request request;
  union {
    struct cmsghdr header;
    char           buf[CMSG_SPACE (2 * sizeof (int))];
  } control;
  struct iovec iov = { &request, sizeof request };
  struct msghdr msg = { 0 };
  int fds[2] = { -1, -1 };
  guint n_fds = 0;
  pid_t pid = -1;
  int fork_errno = EPROTO;
  gssize n;

  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buf;
  msg.msg_controllen = sizeof control.buf;
  do
    n = recvmsg (fd, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n <= 0)
    return FALSE;

  for (struct cmsghdr *cmsg = CMSG_FIRSTHDR (&msg); cmsg != NULL; cmsg = CMSG_NXTHDR (&msg, cmsg))
    {
      if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
        continue;
      for (gsize i = 0; i < (cmsg->cmsg_len - CMSG_LEN (0)) / sizeof (int); i++)
        {
          int received;

          memcpy (&received, CMSG_DATA (cmsg) + i * sizeof (int), sizeof (int));
          if (n_fds < G_N_ELEMENTS (fds))
            fds[n_fds++] = received;
          else
            close (received);
        }
    }

  if (n == sizeof request && n_fds == G_N_ELEMENTS (fds) &&
      (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) == 0)
    {
      fflush (NULL);
      pid = fork ();
      fork_errno = errno;
      if (pid == 0)
        run_worker (server, fd, signal_fd, worker_mask, fds, &request);
    }

  for (guint i = 0; i < n_fds; i++)
    close (fds[i]);

  return pid > 0 ? send_reply (fd, REPLY_STARTED, pid, 0)
                 : send_reply (fd, REPLY_FAILED, 0, fork_errno);
}

void
mpire_fork_server_serve (int fd)
{
  pid_t server = getpid ();
  sigset_t chld, worker_mask;
  int signal_fd;

  /* The server reaps its children, whatever the program did with
   * SIGCHLD; its workers get the signal mask it had. */
  signal (SIGCHLD, SIG_DFL);
  sigemptyset (&chld);
  sigaddset (&chld, SIGCHLD);
  sigprocmask (SIG_BLOCK, &chld, &worker_mask);
  signal_fd = signalfd (-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0)
    {
      g_printerr (_("mpire: the fork server cannot watch its workers: %s\n"), g_strerror (errno));
      exit (EXIT_FAILURE);
    }

  for (;;)
    {
      struct pollfd fds[] = { { fd, POLLIN, 0 }, { signal_fd, POLLIN, 0 } };
      struct signalfd_siginfo info;

      if (poll (fds, G_N_ELEMENTS (fds), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (fds[1].revents != 0)
        {
          while (read (signal_fd, &info, sizeof info) > 0)
            ;
          if (!report_exits (fd))
            break;
        }
      if (fds[0].revents != 0 && !serve_request (server, fd, signal_fd, &worker_mask))
        break;
    }

  exit (EXIT_SUCCESS);
}
