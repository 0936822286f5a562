/* test-protocol.c: frames between pool and workers
 *
 * SPDX-License-Identifier: MIT
 */

#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gio/gio.h>

#include "mpire-error.h"
#include "mpire-protocol-private.h"

#include "test-util.h"

#if defined(__SANITIZE_ADDRESS__)
# define UNDER_ASAN 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define UNDER_ASAN 1
# endif
#endif


static void
test_roundtrip (void)
{
  int fds[2];
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(MpireTasksMessage) msg = { 0 };
  MpireMessageKind kind;

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));

  frame = mpire_frame_encode (MPIRE_MESSAGE_TASKS,
                              mpire_message_tasks_new (&(MpireTasksMessage) {
                                42, "square", FALSE, TRUE, g_variant_new_parsed ("[@x 1, 2, 3]")
                              }),
                              NULL, NULL);
  g_assert_true (mpire_frame_write (fds[0], frame, &error));
  g_assert_no_error (error);

  g_assert_true (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kind, ==, MPIRE_MESSAGE_TASKS);
  g_assert_true (mpire_message_tasks_parse (body, &msg, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg.chunk_id, ==, 42);
  g_assert_cmpstr (msg.task_name, ==, "square");
  g_assert_false (msg.boxed);
  g_assert_true (msg.whole);
  assert_printed (msg.args, TRUE, "[int64 1, 2, 3]");

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
                              mpire_message_results_new (&(MpireResultsMessage) {
                                1, FALSE, g_variant_new_parsed ("[@x 1, 2, 3]")
                              }), NULL, NULL);
  data = g_bytes_get_data (frame, &len);
  g_assert_cmpint (write (fds[0], data, len - 3), ==, (gssize) len - 3);
  close (fds[0]);

  g_assert_false (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
  close (fds[1]);
}

/* A header that says its body is (almost) 2 GiB, then 10 bytes and the
 * end: the reader fails as for any truncated frame, without first taking
 * 2 GiB of memory for a body that never comes (found by fuzz-frame). */
static void
test_lying_length (void)
{
#ifdef UNDER_ASAN
  g_test_skip ("A limit on the address space does not work under AddressSanitizer");
  return;
#endif

  if (g_test_subprocess ())
    {
      const guint8 header[MPIRE_FRAME_HEADER_SIZE] = {
        0xff, 0xff, 0xff, 0x7f, MPIRE_MESSAGE_RESULTS, MPIRE_FRAME_MAGIC, 0, 0
      };
      const guint8 some[10] = { 0 };
      struct rlimit limit = { (rlim_t) 1 << 30, (rlim_t) 1 << 30 };
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GError) error = NULL;
      MpireMessageKind kind;
      int fds[2];

      g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
      g_assert_cmpint (write (fds[0], header, sizeof header), ==, sizeof header);
      g_assert_cmpint (write (fds[0], some, sizeof some), ==, sizeof some);
      close (fds[0]);

      g_assert_no_errno (setrlimit (RLIMIT_AS, &limit));
      g_assert_false (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
      close (fds[1]);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* A frame may say its body is empty: no type has an empty serialisation,
 * so the body reads as its type's default (and the reader adds nothing
 * to a NULL buffer: fuzz-frame found that under UBSan). */
static void
test_empty_body (void)
{
  const guint8 header[MPIRE_FRAME_HEADER_SIZE] = {
    0, 0, 0, 0, MPIRE_MESSAGE_EXIT_RESULT, MPIRE_FRAME_MAGIC, 0, 0
  };
  g_autoptr(GVariant) body = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(MpireExitResultMessage) msg = { 0 };
  MpireMessageKind kind;
  int fds[2];

  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  g_assert_cmpint (write (fds[0], header, sizeof header), ==, sizeof header);
  close (fds[0]);

  g_assert_true (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_no_error (error);
  close (fds[1]);
  g_assert_cmpint (kind, ==, MPIRE_MESSAGE_EXIT_RESULT);
  g_assert_true (mpire_message_exit_result_parse (body, &msg, &error));
  assert_printed (msg.result, TRUE, "()");
}

typedef struct
{
  int     fd;
  GBytes *frame;
} Writer;

static gpointer
write_frame (gpointer data)
{
  Writer *writer = data;

  g_assert_true (mpire_frame_write (writer->fd, writer->frame, NULL));
  close (writer->fd);
  return NULL;
}

/* A body larger than the reader's first piece comes whole. */
static void
test_large_body (void)
{
  gsize n = (gsize) 20 << 20;
  g_autofree guint8 *values = g_malloc (n);
  g_autoptr(GVariant) body = NULL;
  g_auto(MpireResultsMessage) msg = { 0 };
  g_autoptr(GError) error = NULL;
  MpireMessageKind kind;
  const guint8 *got;
  gsize got_len;
  Writer writer;
  GThread *thread;
  int fds[2];

  for (gsize i = 0; i < n; i++)
    values[i] = (guint8) (i * 7 + (i >> 20));
  g_assert_no_errno (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds));
  writer.fd = fds[0];
  writer.frame = mpire_frame_encode (MPIRE_MESSAGE_RESULTS,
                                     mpire_message_results_new (&(MpireResultsMessage) {
                                       5, FALSE,
                                       g_variant_new_fixed_array (G_VARIANT_TYPE_BYTE,
                                                                  values, n, 1)
                                     }), NULL, NULL);
  thread = g_thread_new ("writer", write_frame, &writer);

  g_assert_true (mpire_frame_read (fds[1], NULL, &kind, &body, &error));
  g_assert_no_error (error);
  g_thread_join (thread);
  g_bytes_unref (writer.frame);
  close (fds[1]);

  g_assert_cmpint (kind, ==, MPIRE_MESSAGE_RESULTS);
  g_assert_true (mpire_message_results_parse (body, &msg, &error));
  got = g_variant_get_fixed_array (msg.results, &got_len, 1);
  g_assert_cmpmem (got, got_len, values, n);
}

/* ---- messages ------------------------------------------------------------- */

/* The body as the other end gets it: serialised in a frame, read back
 * from bytes as untrusted data. @body is not floating. */
static GVariant *
through_frame (MpireMessageKind  kind,
               GVariant         *body)
{
  g_autoptr(GBytes) frame = mpire_frame_encode (kind, body, NULL, NULL);
  g_autoptr(GBytes) bytes = NULL;

  g_assert_nonnull (frame);
  bytes = g_bytes_new_from_bytes (frame, MPIRE_FRAME_HEADER_SIZE,
                                  g_bytes_get_size (frame) - MPIRE_FRAME_HEADER_SIZE);
  return mpire_frame_decode_body (kind, bytes);
}

/* Checks that a constructor's @body is floating, of @kind's type, and
 * serialised byte for byte as @legacy, the body as it was built by hand
 * before the constructors (the wire format did not change). Takes both;
 * returns @body sunk. g_variant_store() leaves @body's tree as it is. */
static GVariant *
check_new (MpireMessageKind  kind,
           GVariant         *body,
           GVariant         *legacy)
{
  g_autoptr(GVariant) old = g_variant_ref_sink (legacy);
  g_autofree guint8 *data = NULL, *old_data = NULL;
  gsize size;

  g_assert_nonnull (body);
  g_assert_true (g_variant_is_floating (body));
  g_variant_ref_sink (body);
  g_assert_true (g_variant_is_of_type (body, mpire_message_body_type (kind)));
  size = g_variant_get_size (body);
  g_assert_cmpuint (size, ==, g_variant_get_size (old));
  data = g_malloc (size);
  old_data = g_malloc (size);
  g_variant_store (body, data);
  g_variant_store (old, old_data);
  g_assert_cmpmem (data, size, old_data, size);
  return body;
}

/* Whether @value's bytes lie within @body's (serialised) ones: a child,
 * not a copy. */
static gboolean
shares_bytes (GVariant *value,
              GVariant *body)
{
  const guint8 *start = g_variant_get_data (body);
  const guint8 *data = g_variant_get_data (value);

  return data >= start && data + g_variant_get_size (value) <= start + g_variant_get_size (body);
}

static void
test_message_hello (void)
{
  for (int with_shared = 0; with_shared < 2; with_shared++)
    {
      GVariant *shared = with_shared ? g_variant_new_parsed ("{'table': <[1, 2]>}") : NULL;
      g_autoptr(GVariant) body =
        check_new (MPIRE_MESSAGE_HELLO,
                   mpire_message_hello_new (&(MpireHelloMessage) { 3, TRUE, FALSE, TRUE, shared }),
                   g_variant_new ("(ibbb@mv)", 3, TRUE, FALSE, TRUE,
                                  g_variant_new_maybe (G_VARIANT_TYPE_VARIANT,
                                                       shared != NULL ? g_variant_new_variant (shared)
                                                                      : NULL)));
      g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_HELLO, body);
      GVariant *bodies[] = { body, received };

      for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
        {
          g_auto(MpireHelloMessage) msg = { 0 };
          g_autoptr(GError) error = NULL;

          g_assert_true (mpire_message_hello_parse (bodies[i], &msg, &error));
          g_assert_no_error (error);
          g_assert_cmpint (msg.worker_id, ==, 3);
          g_assert_true (msg.pass_worker_id);
          g_assert_false (msg.use_worker_state);
          g_assert_true (msg.daemon);
          if (with_shared)
            assert_printed (msg.shared_objects, FALSE, "{'table': <[1, 2]>}");
          else
            g_assert_null (msg.shared_objects);
        }
    }
}

static void
test_message_tasks (void)
{
  for (int boxed = 0; boxed < 2; boxed++)
    {
      GVariant *args = boxed ? g_variant_new_parsed ("[<1>, <'a'>]")
                             : g_variant_new_parsed ("[@x 1, 2, 3]");
      guint64 id = (G_GUINT64_CONSTANT (5) << 40) | 7;
      g_autoptr(GVariant) body =
        check_new (MPIRE_MESSAGE_TASKS,
                   mpire_message_tasks_new (&(MpireTasksMessage) { id, "square", boxed, !boxed,
                                                                   args }),
                   g_variant_new ("(tsbbv)", id, "square", boxed, !boxed, args));
      g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_TASKS, body);
      GVariant *bodies[] = { body, received };

      for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
        {
          g_auto(MpireTasksMessage) msg = { 0 };
          g_autoptr(GError) error = NULL;

          g_assert_true (mpire_message_tasks_parse (bodies[i], &msg, &error));
          g_assert_no_error (error);
          g_assert_cmpuint (msg.chunk_id, ==, id);
          g_assert_cmpstr (msg.task_name, ==, "square");
          g_assert_cmpint (msg.boxed, ==, boxed);
          g_assert_cmpint (msg.whole, ==, !boxed);
          assert_printed (msg.args, FALSE, boxed ? "[<1>, <'a'>]" : "[1, 2, 3]");
          /* Never a copy of the array (the parser reads a body built
           * here serialised, as g_variant_get() with "&s" does). */
          g_assert_true (shares_bytes (msg.args, bodies[i]));
        }
    }
}

static void
test_message_stop (void)
{
  g_autoptr(GVariant) body = check_new (MPIRE_MESSAGE_STOP, mpire_message_stop_new (),
                                        g_variant_new ("()"));
  g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_STOP, body);
  g_autoptr(GError) error = NULL;

  g_assert_true (mpire_message_stop_parse (body, &error));
  g_assert_true (mpire_message_stop_parse (received, &error));
  g_assert_no_error (error);
}

static void
test_message_results (void)
{
  GVariant *results = g_variant_new_parsed ("[@x 1, 4, 9]");
  g_autoptr(GVariant) body =
    check_new (MPIRE_MESSAGE_RESULTS,
               mpire_message_results_new (&(MpireResultsMessage) { 42, FALSE, results }),
               g_variant_new ("(tbv)", G_GUINT64_CONSTANT (42), FALSE, results));
  g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_RESULTS, body);
  GVariant *bodies[] = { body, received };

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_auto(MpireResultsMessage) msg = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_true (mpire_message_results_parse (bodies[i], &msg, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (msg.chunk_id, ==, 42);
      g_assert_false (msg.boxed);
      assert_printed (msg.results, TRUE, "[int64 1, 4, 9]");
      if (bodies[i] == body)
        g_assert_true (msg.results == results);
      else
        g_assert_true (shares_bytes (msg.results, received));
    }
}

static void
test_message_error (void)
{
  GVariant *results = g_variant_new_parsed ("[<int64 1>, <'x'>]");
  g_autoptr(GVariant) body =
    check_new (MPIRE_MESSAGE_ERROR,
               mpire_message_error_new (&(MpireErrorMessage) {
                 G_MAXUINT64, 2, "g-io-error-quark", 5, "boom", "square", TRUE, results
               }),
               g_variant_new ("(tusissbv)", G_MAXUINT64, 2, "g-io-error-quark", 5, "boom",
                              "square", TRUE, results));
  g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_ERROR, body);
  GVariant *bodies[] = { body, received };

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_auto(MpireErrorMessage) msg = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_true (mpire_message_error_parse (bodies[i], &msg, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (msg.chunk_id, ==, G_MAXUINT64);
      g_assert_cmpuint (msg.index, ==, 2);
      g_assert_cmpstr (msg.domain, ==, "g-io-error-quark");
      g_assert_cmpint (msg.code, ==, 5);
      g_assert_cmpstr (msg.message, ==, "boom");
      g_assert_cmpstr (msg.task_name, ==, "square");
      g_assert_true (msg.boxed);
      assert_printed (msg.results, FALSE, "[<int64 1>, <'x'>]");
    }
}

static void
test_message_config (void)
{
  const MpireConfigMessage configs[] = {
    { "init", NULL, TRUE, FALSE, FALSE },
    { NULL, "bye", FALSE, TRUE, TRUE },
  };

  for (gsize c = 0; c < G_N_ELEMENTS (configs); c++)
    {
      const MpireConfigMessage *config = &configs[c];
      g_autoptr(GVariant) body =
        check_new (MPIRE_MESSAGE_CONFIG, mpire_message_config_new (config),
                   g_variant_new ("(ssbbb)", config->worker_init ? config->worker_init : "",
                                  config->worker_exit ? config->worker_exit : "",
                                  config->timed, config->insights, config->partial));
      g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_CONFIG, body);
      GVariant *bodies[] = { body, received };

      for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
        {
          MpireConfigMessage msg;
          g_autoptr(GError) error = NULL;

          g_assert_true (mpire_message_config_parse (bodies[i], &msg, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (msg.worker_init, ==, config->worker_init);
          g_assert_cmpstr (msg.worker_exit, ==, config->worker_exit);
          g_assert_cmpint (msg.timed, ==, config->timed);
          g_assert_cmpint (msg.insights, ==, config->insights);
          g_assert_cmpint (msg.partial, ==, config->partial);
          /* "" on the wire is %NULL again. */
          g_assert_cmpstr (msg.worker_init, ==, config->worker_init);
          g_assert_cmpstr (msg.worker_exit, ==, config->worker_exit);
          g_assert_cmpint (msg.timed, ==, config->timed);
          g_assert_cmpint (msg.insights, ==, config->insights);
        }
    }
}

static void
test_message_exit_result (void)
{
  g_autoptr(GVariant) body =
    check_new (MPIRE_MESSAGE_EXIT_RESULT,
               mpire_message_exit_result_new (&(MpireExitResultMessage) {
                 g_variant_new_parsed ("('done', 3)")
               }),
               g_variant_new ("(v)", g_variant_new_parsed ("('done', 3)")));
  g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_EXIT_RESULT, body);
  GVariant *bodies[] = { body, received };

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_auto(MpireExitResultMessage) msg = { 0 };
      g_autoptr(GError) error = NULL;

      g_assert_true (mpire_message_exit_result_parse (bodies[i], &msg, &error));
      g_assert_no_error (error);
      assert_printed (msg.result, FALSE, "('done', 3)");
    }
}

static void
test_message_failed (void)
{
  const char * const stages[] = { "init", "exit" };

  for (MpireLifecycleStage stage = MPIRE_LIFECYCLE_STAGE_INIT;
       stage <= MPIRE_LIFECYCLE_STAGE_EXIT; stage++)
    {
      g_autoptr(GVariant) body =
        check_new (MPIRE_MESSAGE_FAILED,
                   mpire_message_failed_new (&(MpireFailedMessage) {
                     "mpire-error-quark", 3, "no luck", "setup", stage
                   }),
                   g_variant_new ("(sisss)", "mpire-error-quark", 3, "no luck", "setup",
                                  stages[stage]));
      g_autoptr(GVariant) received = through_frame (MPIRE_MESSAGE_FAILED, body);
      GVariant *bodies[] = { body, received };

      for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
        {
          MpireFailedMessage msg;
          g_autoptr(GError) error = NULL;

          g_assert_true (mpire_message_failed_parse (bodies[i], &msg, &error));
          g_assert_no_error (error);
          g_assert_cmpstr (msg.domain, ==, "mpire-error-quark");
          g_assert_cmpint (msg.code, ==, 3);
          g_assert_cmpstr (msg.message, ==, "no luck");
          g_assert_cmpstr (msg.task_name, ==, "setup");
          g_assert_cmpint (msg.stage, ==, stage);
        }
    }
}

static void
test_message_insights (void)
{
  const MpireInsightsMessage reports[] = {
    { 1000, 1, 2, 3, 4, 9, 2, { { 50, "Arg 0: 5" }, { 20, "Arg 0: 2" } } },
    { 0, 0, 7, 0, 0, 0, 0, { { 0 } } },
  };

  for (gsize r = 0; r < G_N_ELEMENTS (reports); r++)
    {
      const MpireInsightsMessage *report = &reports[r];
      GVariantBuilder top;
      g_autoptr(GVariant) body = NULL;
      g_autoptr(GVariant) received = NULL;

      g_variant_builder_init (&top, G_VARIANT_TYPE ("a(xs)"));
      for (guint t = 0; t < report->n_top; t++)
        g_variant_builder_add (&top, "(xs)", report->top[t].duration, report->top[t].args);
      body = check_new (MPIRE_MESSAGE_INSIGHTS, mpire_message_insights_new (report),
                        g_variant_new ("(xxxxxta(xs))", report->ready_at, report->init_time,
                                       report->waiting_time, report->working_time,
                                       report->exit_time, report->n_completed, &top));
      received = through_frame (MPIRE_MESSAGE_INSIGHTS, body);

      for (int i = 0; i < 2; i++)
        {
          MpireInsightsMessage msg;
          g_autoptr(GError) error = NULL;

          g_assert_true (mpire_message_insights_parse (i == 0 ? body : received, &msg, &error));
          g_assert_no_error (error);
          g_assert_cmpint (msg.ready_at, ==, report->ready_at);
          g_assert_cmpint (msg.init_time, ==, report->init_time);
          g_assert_cmpint (msg.waiting_time, ==, report->waiting_time);
          g_assert_cmpint (msg.working_time, ==, report->working_time);
          g_assert_cmpint (msg.exit_time, ==, report->exit_time);
          g_assert_cmpuint (msg.n_completed, ==, report->n_completed);
          g_assert_cmpuint (msg.n_top, ==, report->n_top);
          for (guint t = 0; t < msg.n_top; t++)
            {
              g_assert_cmpint (msg.top[t].duration, ==, report->top[t].duration);
              g_assert_cmpstr (msg.top[t].args, ==, report->top[t].args);
            }
        }
    }
}

/* A body of each kind (floating). */
static GVariant *
sample_body (MpireMessageKind kind)
{
  switch (kind)
    {
    case MPIRE_MESSAGE_HELLO:
      return mpire_message_hello_new (&(MpireHelloMessage) { 0, FALSE, FALSE, FALSE, NULL });
    case MPIRE_MESSAGE_TASKS:
      return mpire_message_tasks_new (&(MpireTasksMessage) {
        1, "t", FALSE, FALSE, g_variant_new_parsed ("[@x 1]")
      });
    case MPIRE_MESSAGE_STOP:
      return mpire_message_stop_new ();
    case MPIRE_MESSAGE_RESULTS:
      return mpire_message_results_new (&(MpireResultsMessage) {
        1, FALSE, g_variant_new_parsed ("[@x 1]")
      });
    case MPIRE_MESSAGE_ERROR:
      return mpire_message_error_new (&(MpireErrorMessage) {
        1, 0, "", 0, "m", "t", TRUE, g_variant_new_parsed ("@av []")
      });
    case MPIRE_MESSAGE_CONFIG:
      return mpire_message_config_new (&(MpireConfigMessage) { NULL, NULL, FALSE, FALSE, FALSE });
    case MPIRE_MESSAGE_EXIT_RESULT:
      return mpire_message_exit_result_new (&(MpireExitResultMessage) {
        g_variant_new_int32 (1)
      });
    case MPIRE_MESSAGE_FAILED:
      return mpire_message_failed_new (&(MpireFailedMessage) {
        "", 0, "m", "t", MPIRE_LIFECYCLE_STAGE_INIT
      });
    case MPIRE_MESSAGE_INSIGHTS:
      return mpire_message_insights_new (&(MpireInsightsMessage) { 0 });
    case MPIRE_MESSAGE_PARTIAL:
      return mpire_message_partial_new (&(MpireResultsMessage) {
        2, TRUE, g_variant_new_parsed ("[<int64 1>]")
      });
    case MPIRE_MESSAGE_READY:
      return mpire_message_ready_new (&(MpireReadyMessage) { "0.1.0", "host", "1", 5 });
    case MPIRE_MESSAGE_BEAT:
      return mpire_message_beat_new (&(MpireBeatMessage) { 2, 1, TRUE, TRUE });
    case MPIRE_MESSAGE_LAST:
    default:
      g_assert_not_reached ();
    }
}

/* Reads a string field: valgrind sees a string that does not live as
 * long as the body. */
static void
touch (const char *text,
       GVariant   *body)
{
  g_assert_nonnull (text);
  g_assert_cmpuint (strlen (text), <=, g_variant_get_size (body));
}

/* Parses @body as a message of @kind; whatever the outcome, @msg holds
 * no reference once cleared, and none at all after a failure. */
static gboolean
parse_as (MpireMessageKind   kind,
          GVariant          *body,
          GError           **error)
{
  gboolean ok;

  switch (kind)
    {
    case MPIRE_MESSAGE_HELLO:
      {
        g_auto(MpireHelloMessage) msg = { 0 };

        ok = mpire_message_hello_parse (body, &msg, error);
        g_assert_true (ok || msg.shared_objects == NULL);
        return ok;
      }
    case MPIRE_MESSAGE_TASKS:
      {
        g_auto(MpireTasksMessage) msg = { 0 };

        ok = mpire_message_tasks_parse (body, &msg, error);
        g_assert_true (ok || msg.args == NULL);
        if (ok)
          touch (msg.task_name, body);
        return ok;
      }
    case MPIRE_MESSAGE_STOP:
      return mpire_message_stop_parse (body, error);
    case MPIRE_MESSAGE_RESULTS:
    case MPIRE_MESSAGE_PARTIAL:
      {
        g_auto(MpireResultsMessage) msg = { 0 };

        ok = kind == MPIRE_MESSAGE_RESULTS ? mpire_message_results_parse (body, &msg, error)
                                           : mpire_message_partial_parse (body, &msg, error);
        g_assert_true (ok || msg.results == NULL);
        return ok;
      }
    case MPIRE_MESSAGE_ERROR:
      {
        g_auto(MpireErrorMessage) msg = { 0 };

        ok = mpire_message_error_parse (body, &msg, error);
        g_assert_true (ok || msg.results == NULL);
        if (ok)
          {
            touch (msg.domain, body);
            touch (msg.message, body);
            touch (msg.task_name, body);
          }
        return ok;
      }
    case MPIRE_MESSAGE_CONFIG:
      {
        MpireConfigMessage msg;

        ok = mpire_message_config_parse (body, &msg, error);
        if (ok && msg.worker_init != NULL)
          touch (msg.worker_init, body);
        if (ok && msg.worker_exit != NULL)
          touch (msg.worker_exit, body);
        return ok;
      }
    case MPIRE_MESSAGE_EXIT_RESULT:
      {
        g_auto(MpireExitResultMessage) msg = { 0 };

        ok = mpire_message_exit_result_parse (body, &msg, error);
        g_assert_true (ok || msg.result == NULL);
        return ok;
      }
    case MPIRE_MESSAGE_FAILED:
      {
        MpireFailedMessage msg;

        ok = mpire_message_failed_parse (body, &msg, error);
        if (ok)
          {
            touch (msg.domain, body);
            touch (msg.message, body);
            touch (msg.task_name, body);
          }
        return ok;
      }
    case MPIRE_MESSAGE_INSIGHTS:
      {
        MpireInsightsMessage msg;

        ok = mpire_message_insights_parse (body, &msg, error);
        if (ok)
          {
            g_assert_cmpuint (msg.n_top, <=, MPIRE_MESSAGE_INSIGHTS_MAX_TOP);
            for (guint i = 0; i < msg.n_top; i++)
              touch (msg.top[i].args, body);
          }
        return ok;
      }
    case MPIRE_MESSAGE_READY:
      {
        MpireReadyMessage msg;

        ok = mpire_message_ready_parse (body, &msg, error);
        if (ok)
          {
            touch (msg.version, body);
            touch (msg.host, body);
            touch (msg.pid, body);
          }
        return ok;
      }
    case MPIRE_MESSAGE_BEAT:
      {
        MpireBeatMessage msg;

        return mpire_message_beat_parse (body, &msg, error);
      }
    case MPIRE_MESSAGE_LAST:
    default:
      g_assert_not_reached ();
    }
}

/* A launched worker's handshake and heartbeat read back as sent. */
static void
test_ready_and_beat (void)
{
  g_autoptr(GVariant) ready_body =
    g_variant_ref_sink (mpire_message_ready_new (&(MpireReadyMessage) { "0.1.0", "node1", "42", -3 }));
  g_autoptr(GVariant) beat_body =
    g_variant_ref_sink (mpire_message_beat_new (&(MpireBeatMessage) { G_MAXUINT64, 7, TRUE, FALSE }));
  g_autoptr(GError) error = NULL;
  MpireReadyMessage ready;
  MpireBeatMessage beat;

  g_assert_true (mpire_message_ready_parse (ready_body, &ready, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (ready.version, ==, "0.1.0");
  g_assert_cmpstr (ready.host, ==, "node1");
  g_assert_cmpstr (ready.pid, ==, "42");
  g_assert_cmpint (ready.now, ==, -3);
  g_assert_true (mpire_message_beat_parse (beat_body, &beat, &error));
  g_assert_cmpuint (beat.chunk_id, ==, G_MAXUINT64);
  g_assert_cmpuint (beat.index, ==, 7);
  g_assert_true (beat.timed);
  g_assert_false (beat.running);
  g_assert_false (mpire_message_beat_parse (ready_body, &beat, &error));
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
}

/* Each parser refuses a body of any other type: an error, not a crash. */
static void
test_message_wrong_type (void)
{
  for (MpireMessageKind kind = MPIRE_MESSAGE_HELLO; kind < MPIRE_MESSAGE_LAST; kind++)
    {
      g_autoptr(GVariant) own = g_variant_ref_sink (sample_body (kind));
      g_autoptr(GVariant) received = through_frame (kind, own);
      g_autoptr(GVariant) string = g_variant_ref_sink (g_variant_new_string ("HELLO"));
      g_autoptr(GError) error = NULL;

      g_assert_true (parse_as (kind, own, &error));
      g_assert_true (parse_as (kind, received, &error));
      g_assert_no_error (error);

      g_assert_false (parse_as (kind, string, &error));
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
      g_clear_error (&error);

      for (MpireMessageKind other = MPIRE_MESSAGE_HELLO; other < MPIRE_MESSAGE_LAST; other++)
        {
          g_autoptr(GVariant) body = NULL;

          /* RESULTS and PARTIAL have the same body. */
          if (other == kind ||
              g_variant_type_equal (mpire_message_body_type (other), mpire_message_body_type (kind)))
            continue;
          body = g_variant_ref_sink (sample_body (other));
          g_assert_false (parse_as (kind, body, &error));
          g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
          g_clear_error (&error);
        }
    }
}

/* Bodies of the right type whose contents break the message's rules. */
static void
test_message_bad_arrays (void)
{
  struct {
    MpireMessageKind  kind;
    const char       *body;
  } cases[] = {
    { MPIRE_MESSAGE_TASKS, "(uint64 7, 'square', false, false, <'not an array'>)" },
    { MPIRE_MESSAGE_TASKS, "(uint64 7, 'square', true, false, <[int64 1, 2]>)" },
    { MPIRE_MESSAGE_TASKS, "(uint64 7, 'square', false, true, <int64 1>)" },
    { MPIRE_MESSAGE_RESULTS, "(uint64 7, false, <int64 1>)" },
    { MPIRE_MESSAGE_RESULTS, "(uint64 7, true, <[int64 1]>)" },
    { MPIRE_MESSAGE_ERROR, "(uint64 7, uint32 0, '', 0, 'm', 't', false, <'x'>)" },
    { MPIRE_MESSAGE_ERROR, "(uint64 7, uint32 0, '', 0, 'm', 't', true, <@ax []>)" },
    { MPIRE_MESSAGE_FAILED, "('', 0, 'm', 't', 'later')" },
    { MPIRE_MESSAGE_INSIGHTS, "(int64 0, int64 0, int64 0, int64 0, int64 0, uint64 0, "
                              "[(int64 6, 'a'), (5, 'b'), (4, 'c'), (3, 'd'), (2, 'e'), "
                              "(1, 'f')])" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new_parsed (cases[i].body));
      g_autoptr(GVariant) received = through_frame (cases[i].kind, body);
      g_autoptr(GError) error = NULL;

      g_assert_false (parse_as (cases[i].kind, body, &error));
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
      g_clear_error (&error);
      g_assert_false (parse_as (cases[i].kind, received, &error));
      g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
    }

  /* The worker answers tasks that are not an array: it still has the
   * chunk and the task. */
  {
    g_autoptr(GVariant) body = g_variant_ref_sink (g_variant_new_parsed (cases[0].body));
    g_auto(MpireTasksMessage) msg = { 0 };
    g_autoptr(GError) error = NULL;

    g_assert_false (mpire_message_tasks_parse (body, &msg, &error));
    g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
    g_assert_cmpuint (msg.chunk_id, ==, 7);
    g_assert_cmpstr (msg.task_name, ==, "square");
    g_assert_null (msg.args);
  }
}

/* Bodies of garbage bytes are read without harm: GVariant treats them as
 * untrusted data and reads default values, which the parsers take or
 * refuse. */
static void
test_garbage_body (void)
{
  for (MpireMessageKind kind = MPIRE_MESSAGE_HELLO; kind < MPIRE_MESSAGE_LAST; kind++)
    for (int round = 0; round < 200; round++)
      {
        gsize len = g_test_rand_int_range (0, 64);
        g_autofree guint8 *junk = g_malloc (len + 1);
        g_autoptr(GBytes) bytes = NULL;
        g_autoptr(GVariant) body = NULL;
        g_autoptr(GError) error = NULL;

        for (gsize i = 0; i < len; i++)
          junk[i] = round % 4 == 0 ? 0 : (guint8) g_test_rand_int_range (0, 256);
        bytes = g_bytes_new (junk, len);
        body = mpire_frame_decode_body (kind, bytes);
        if (!parse_as (kind, body, &error))
          g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_PROTOCOL);
      }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/protocol/roundtrip", test_roundtrip);
  g_test_add_func ("/mpire/protocol/ready-and-beat", test_ready_and_beat);
  g_test_add_func ("/mpire/protocol/corrupt-header", test_corrupt_header);
  g_test_add_func ("/mpire/protocol/truncated", test_truncated);
  g_test_add_func ("/mpire/protocol/lying-length", test_lying_length);
  g_test_add_func ("/mpire/protocol/large-body", test_large_body);
  g_test_add_func ("/mpire/protocol/empty-body", test_empty_body);
  g_test_add_func ("/mpire/protocol/garbage-body", test_garbage_body);
  g_test_add_func ("/mpire/protocol/message/hello", test_message_hello);
  g_test_add_func ("/mpire/protocol/message/tasks", test_message_tasks);
  g_test_add_func ("/mpire/protocol/message/stop", test_message_stop);
  g_test_add_func ("/mpire/protocol/message/results", test_message_results);
  g_test_add_func ("/mpire/protocol/message/error", test_message_error);
  g_test_add_func ("/mpire/protocol/message/config", test_message_config);
  g_test_add_func ("/mpire/protocol/message/exit-result", test_message_exit_result);
  g_test_add_func ("/mpire/protocol/message/failed", test_message_failed);
  g_test_add_func ("/mpire/protocol/message/insights", test_message_insights);
  g_test_add_func ("/mpire/protocol/message/wrong-type", test_message_wrong_type);
  g_test_add_func ("/mpire/protocol/message/bad-arrays", test_message_bad_arrays);

  return g_test_run ();
}
