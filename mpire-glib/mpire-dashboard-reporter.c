/* mpire-dashboard-reporter.c: a map's reports to the dashboards
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <unistd.h>

#include "mpire-dashboard-client-private.h"
#include "mpire-dashboard-private.h"
#include "mpire-dashboard-reporter-private.h"
#include "mpire-enum-types.h"
#include "mpire-worker-pool.h"

/* While a dashboard listens in this process or one elsewhere is
 * connected, each call of the map family gets a reporter: it follows
 * the call through the pool's own signals (progress, task-failed,
 * worker-started/exited/died, finished), in the caller's thread where
 * they are emitted, and hands the map's state, as the JSON object the
 * push API takes, to the local dashboards and to the client. Nothing
 * polls and nothing here waits for the network: the client sends from
 * its own thread. Progress is reported at most every
 * REPORT_INTERVAL_USEC (the signal itself comes at most 20 times a
 * second), insights every INSIGHTS_INTERVAL_USEC, and a last time when
 * the call ends.
 *
 * The reporter lives as data on the pool from the call's start to its
 * `finished`; if the pool goes first, the map is reported cancelled. */

#define REPORT_INTERVAL_USEC   (100 * 1000)
#define INSIGHTS_INTERVAL_USEC G_USEC_PER_SEC
/* How long the end of a map waits for its last state to reach a
 * dashboard in another process (not at all while it does not answer). */
#define FINAL_FLUSH_USEC       (500 * 1000)
#define REPORTER_KEY           "mpire-dashboard-reporter"
#define MAX_ARGS_TEXT          2048

typedef struct
{
  GObject  *pool;          /* not owned: the reporter is the pool's data */
  char     *key;
  char     *description;
  char     *task_name;
  char     *start_method;
  int       n_jobs;
  gboolean  insights;
  gint64    done;
  gint64    total;
  gint64    start;         /* monotonic */
  double    start_time;    /* wall clock, seconds */
  gint64    last_report;
  gint64    last_insights;
  JsonNode *insights_node;
  GError   *error;
  char     *failed_args;
  gint64    workers[3];    /* started, exited, died */
  gboolean  finished;
} Reporter;

static char *
make_key (void)
{
  static gint serial;
  char host[256] = "";

  if (gethostname (host, sizeof host - 1) != 0)
    host[0] = '\0';
  return g_strdup_printf ("%.64s:%d:%d", host, (int) getpid (), g_atomic_int_add (&serial, 1));
}

static void
update_insights (Reporter *self)
{
  g_autofree char *json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();

  if (!self->insights)
    return;
  json = mpire_worker_pool_get_insights_json (MPIRE_WORKER_POOL (self->pool));
  if (json != NULL && json_parser_load_from_data (parser, json, -1, NULL) &&
      JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_clear_pointer (&self->insights_node, json_node_unref);
      self->insights_node = json_node_copy (json_parser_get_root (parser));
    }
  self->last_insights = g_get_monotonic_time ();
}

static JsonObject *
build_map (Reporter   *self,
           const char *status)
{
  JsonObject *map = json_object_new ();
  JsonObject *workers = json_object_new ();
  double elapsed = (g_get_monotonic_time () - self->start) / (double) G_USEC_PER_SEC;
  double rate = elapsed > 0 ? self->done / elapsed : 0;
  char host[256] = "";

  json_object_set_string_member (map, "key", self->key);
  json_object_set_string_member (map, "description", self->description);
  json_object_set_string_member (map, "task", self->task_name);
  json_object_set_string_member (map, "status", status);
  json_object_set_int_member (map, "done", self->done);
  json_object_set_int_member (map, "total", self->total);
  json_object_set_double_member (map, "rate", rate);
  if (self->total > 0 && rate > 0 && self->done < self->total && !self->finished)
    json_object_set_double_member (map, "eta", (self->total - self->done) / rate);
  else if (self->finished)
    json_object_set_double_member (map, "eta", 0);
  else
    json_object_set_null_member (map, "eta");
  json_object_set_double_member (map, "start_time", self->start_time);
  if (self->finished)
    json_object_set_double_member (map, "end_time", g_get_real_time () / (double) G_USEC_PER_SEC);
  else
    json_object_set_null_member (map, "end_time");

  if (self->error != NULL)
    {
      JsonObject *error = json_object_new ();

      json_object_set_string_member (error, "domain", g_quark_to_string (self->error->domain));
      json_object_set_int_member (error, "code", self->error->code);
      json_object_set_string_member (error, "message", self->error->message);
      json_object_set_object_member (map, "error", error);
    }
  else
    json_object_set_null_member (map, "error");
  if (self->failed_args != NULL)
    json_object_set_string_member (map, "failed_args", self->failed_args);
  else
    json_object_set_null_member (map, "failed_args");
  if (self->insights_node != NULL)
    json_object_set_member (map, "insights", json_node_copy (self->insights_node));

  if (gethostname (host, sizeof host - 1) == 0)
    json_object_set_string_member (map, "host", host);
  json_object_set_int_member (map, "pid", getpid ());
  json_object_set_int_member (map, "n_jobs", self->n_jobs);
  json_object_set_string_member (map, "start_method", self->start_method);
  json_object_set_int_member (workers, "started", self->workers[0]);
  json_object_set_int_member (workers, "exited", self->workers[1]);
  json_object_set_int_member (workers, "died", self->workers[2]);
  json_object_set_object_member (map, "workers", workers);
  return map;
}

static void
report (Reporter   *self,
        const char *status)
{
  g_autoptr(JsonObject) map = build_map (self, status);

  self->last_report = g_get_monotonic_time ();
  if (mpire_dashboard_has_local ())
    mpire_dashboard_report_local (map);
  if (mpire_dashboard_client_is_connected ())
    {
      mpire_dashboard_client_post (map);
      if (self->finished)
        mpire_dashboard_client_flush (FINAL_FLUSH_USEC);
    }
}

static void
reporter_free (gpointer data)
{
  Reporter *self = data;

  if (!self->finished)
    {
      /* The pool went away in the middle of the call. */
      self->finished = TRUE;
      report (self, "cancelled");
    }
  g_free (self->key);
  g_free (self->description);
  g_free (self->task_name);
  g_free (self->start_method);
  g_clear_pointer (&self->insights_node, json_node_unref);
  g_clear_error (&self->error);
  g_free (self->failed_args);
  g_free (self);
}

static void
progress_cb (GObject  *pool,
             gint64    done,
             gint64    total,
             Reporter *self)
{
  gint64 now = g_get_monotonic_time ();

  self->done = done;
  self->total = total;
  if (self->insights && now - self->last_insights >= INSIGHTS_INTERVAL_USEC)
    update_insights (self);
  if (now - self->last_report >= REPORT_INTERVAL_USEC)
    report (self, "running");
}

static void
task_failed_cb (GObject      *pool,
                const GError *error,
                GVariant     *args,
                Reporter     *self)
{
  if (self->error != NULL)
    return;
  self->error = g_error_copy (error);
  if (args != NULL)
    {
      g_autofree char *text = g_variant_print (args, TRUE);

      if (g_utf8_strlen (text, -1) > MAX_ARGS_TEXT)
        {
          g_autofree char *cut = g_utf8_substring (text, 0, MAX_ARGS_TEXT);

          self->failed_args = g_strconcat (cut, "…", NULL);
        }
      else
        self->failed_args = g_steal_pointer (&text);
    }
  report (self, "running");
}

static void
worker_cb (GObject  *pool,
           int       worker_id,
           Reporter *self,
           int       which)
{
  self->workers[which]++;
}

static void
worker_started_cb (GObject  *pool,
                   int       worker_id,
                   Reporter *self)
{
  worker_cb (pool, worker_id, self, 0);
}

static void
worker_exited_cb (GObject  *pool,
                  int       worker_id,
                  Reporter *self)
{
  worker_cb (pool, worker_id, self, 1);
}

static void
worker_died_cb (GObject      *pool,
                int           worker_id,
                const GError *error,
                Reporter     *self)
{
  worker_cb (pool, worker_id, self, 2);
}

static void
finished_cb (GObject  *pool,
             Reporter *self)
{
  const char *status;

  self->finished = TRUE;
  update_insights (self);
  if (self->error != NULL)
    status = "failed";
  else if (self->total > 0 && self->done < self->total)
    status = "cancelled";
  else
    status = "completed";
  report (self, status);

  g_signal_handlers_disconnect_by_data (pool, self);
  g_object_set_data (pool, REPORTER_KEY, NULL);
}

/* A call of @pool's map family starts (its job made, not yet started):
 * follows it if any dashboard listens. */
void
mpire_dashboard_watch_call (GObject         *pool,
                            MpireTask       *task,
                            GVariant        *iterable,
                            MpireMapOptions *options)
{
  g_autoptr(GEnumClass) methods = NULL;
  GVariant *bar_options = options != NULL ? mpire_map_options_get_progress_bar_options (options)
                                          : NULL;
  const char *description = NULL;
  GEnumValue *method;
  MpireStartMethod start_method;
  Reporter *self, *old;

  mpire_dashboard_connect_from_env ();
  if (!mpire_dashboard_has_local () && !mpire_dashboard_client_is_connected ())
    return;

  /* A call that never ended (it cannot happen, but never report twice). */
  old = g_object_get_data (pool, REPORTER_KEY);
  if (old != NULL)
    g_signal_handlers_disconnect_by_data (pool, old);

  self = g_new0 (Reporter, 1);
  self->pool = pool;
  self->key = make_key ();
  self->task_name = g_strdup (mpire_task_get_name (task));
  if (bar_options != NULL && g_variant_is_of_type (bar_options, G_VARIANT_TYPE_VARDICT))
    g_variant_lookup (bar_options, "desc", "&s", &description);
  self->description = g_strdup (description != NULL && *description != '\0'
                                  ? description : self->task_name);
  g_object_get (pool, "n-jobs", &self->n_jobs, "start-method", &start_method,
                "enable-insights", &self->insights, NULL);
  methods = g_type_class_ref (MPIRE_TYPE_START_METHOD);
  method = g_enum_get_value (methods, start_method);
  self->start_method = g_strdup (method != NULL ? method->value_nick : "");
  if (options != NULL && mpire_map_options_get_iterable_len (options) >= 0)
    self->total = mpire_map_options_get_iterable_len (options);
  else if (iterable != NULL && g_variant_is_container (iterable))
    self->total = (gint64) g_variant_n_children (iterable);
  self->start = g_get_monotonic_time ();
  self->start_time = g_get_real_time () / (double) G_USEC_PER_SEC;
  self->last_insights = self->start;

  g_object_set_data_full (pool, REPORTER_KEY, self, reporter_free);
  g_signal_connect (pool, "progress", G_CALLBACK (progress_cb), self);
  g_signal_connect (pool, "task-failed", G_CALLBACK (task_failed_cb), self);
  g_signal_connect (pool, "worker-started", G_CALLBACK (worker_started_cb), self);
  g_signal_connect (pool, "worker-exited", G_CALLBACK (worker_exited_cb), self);
  g_signal_connect (pool, "worker-died", G_CALLBACK (worker_died_cb), self);
  g_signal_connect (pool, "finished", G_CALLBACK (finished_cb), self);
  report (self, "running");
}
