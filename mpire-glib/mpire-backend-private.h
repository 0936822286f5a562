/* mpire-backend-private.h: the start methods
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <sched.h>
#include <spawn.h>

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MpireForkServer MpireForkServer;

/* What a backend needs to start a worker. */
typedef struct
{
  int                 worker_id;
  const char * const *argv;            /* spawn: the worker program */
  const char * const *launcher;        /* spawn: the argv prefix that starts it
                                          (ssh HOST, srun ...), or NULL */
  MpireForkServer    *fork_server;     /* forkserver: the server to ask */
  GVariant           *shared_objects;  /* fork, threading: shared by address */
  const int          *close_fds;       /* fork: fds the child must not keep */
  guint               n_close_fds;
  int                 pool_fd;         /* the pool's end of this worker's channel */
  int                 memory_fd;       /* shared with the worker (see mpire-worker-memory-private.h) */
  const cpu_set_t    *cpus;            /* CPUs to pin the worker to, or NULL */
} MpireWorkerStartInfo;

/* How one start method starts, watches and stops a worker whose channel
 * end is @child_fd (the backend owns it from then on). */
typedef struct
{
  gpointer (*start) (const MpireWorkerStartInfo  *info,
                     int                          child_fd,
                     GError                     **error);
  /* Arranges for @exited to run in @context once the worker is gone. */
  void     (*watch) (gpointer                     handle,
                     GMainContext                *context,
                     void                       (*exited) (int wait_status, gpointer data),
                     gpointer                     data);
  void     (*kill)  (gpointer                     handle);
  void     (*free)  (gpointer                     handle);
  /* A worker killed that runs on (a thread: it cannot be killed) frees
   * itself once it ends, and never tells of its end: returns FALSE if it
   * has ended already. %NULL for processes. */
  gboolean (*abandon) (gpointer                   handle);
  gboolean is_process;
  /* The worker shares no memory with the pool (it may run on another
   * host): no frame goes through the shared rings, the worker greets the
   * pool with a READY frame and sends its heartbeat in BEAT frames. */
  gboolean is_launched;
} MpireBackend;

/* The watch, kill and free of both process backends: handle is a pid. */
void mpire_process_watch (gpointer       handle,
                          GMainContext  *context,
                          void         (*exited) (int wait_status, gpointer data),
                          gpointer       data);
void mpire_process_kill  (gpointer       handle);
void mpire_process_free  (gpointer       handle);

/* Calls @func (@data) from an idle source in @context: how a backend
 * that learns of an exit elsewhere (a thread's end, a fork server's
 * report, with the scheduler's lock held) tells the link. @name is static. */
void mpire_backend_post_exit (GMainContext *context,
                              GSourceFunc   func,
                              gpointer      data,
                              const char   *name);

const MpireBackend *mpire_backend_spawn     (void);
const MpireBackend *mpire_backend_fork      (void);
const MpireBackend *mpire_backend_threading (void);
const MpireBackend *mpire_backend_forkserver (void);
const MpireBackend *mpire_backend_launcher  (void);

/* The argv that starts a worker through @launcher (mpire-backend-launcher.c). */
char **mpire_launcher_argv (const char * const *launcher,
                            const char * const *argv);

/* posix_spawnp() with the signals reset to their defaults
 * (mpire-backend-spawn.c). */
int      mpire_spawn_program  (pid_t                             *child,
                               const char * const                *argv,
                               const posix_spawn_file_actions_t  *actions,
                               char                             **envp);

/* Spawns a program with some fds (mpire-backend-spawn.c). */
gboolean mpire_spawn_with_fds (const char * const  *argv,
                               const int           *fds,
                               const char * const  *env_names,
                               guint                n_fds,
                               GPid                *pid,
                               GError             **error);

G_END_DECLS
