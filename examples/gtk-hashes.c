/* gtk-hashes.c: a GTK 4 window that runs thousands of CPU-heavy tasks on
 * worker processes without freezing
 *
 * Each task hashes a number 40,000 times over with SHA-256 (about 10 ms
 * of CPU). Start runs them with mpire_worker_pool_imap_list(): the list
 * below fills as the results come in, the progress bar follows the
 * pool's `progress` signal, and Cancel stops the call through its
 * GCancellable, which kills the workers running it.
 *
 * Usage: gtk-hashes [OPTION...]
 *   --tasks N                 number of tasks (default 3000)
 *   --jobs N                  worker processes (default: one per CPU)
 *   --auto-run                press Start once the window is up, quit
 *                             when the run is over
 *   --auto-cancel-after SECS  with --auto-run: press Cancel SECS after
 *                             Start
 *   --screenshot FILE         with --auto-run: save the window as a PNG
 *                             before quitting
 *
 * With --auto-run it prints what happened on standard output and exits
 * with 0 only if the run went as expected: every result in the list, or
 * for a cancelled run, the call cancelled and no worker process left.
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>

#include <gtk/gtk.h>
#include <mpire-glib/mpire.h>

#define HASH_ROUNDS 40000

/* How long a cancelled run may take to leave no child behind before the
 * automatic mode calls it a failure. */
#define CHILDREN_GONE_TIMEOUT_USEC (10 * G_USEC_PER_SEC)

static int n_tasks = 3000;
static int n_jobs = 0;
static gboolean auto_run = FALSE;
static double auto_cancel_after = -1;
static char *screenshot_path = NULL;

static GOptionEntry entries[] = {
  { "tasks", 0, 0, G_OPTION_ARG_INT, &n_tasks, "Number of tasks", "N" },
  { "jobs", 0, 0, G_OPTION_ARG_INT, &n_jobs, "Worker processes (0: one per CPU)", "N" },
  { "auto-run", 0, 0, G_OPTION_ARG_NONE, &auto_run, "Press Start, quit when the run is over", NULL },
  { "auto-cancel-after", 0, 0, G_OPTION_ARG_DOUBLE, &auto_cancel_after,
    "With --auto-run, press Cancel SECS after Start", "SECS" },
  { "screenshot", 0, 0, G_OPTION_ARG_FILENAME, &screenshot_path,
    "With --auto-run, save the window as a PNG before quitting", "FILE" },
  { NULL }
};

/* The task, run in the workers: SHA-256 of the number, then of the
 * digest, HASH_ROUNDS times; returns the last digest in hex. */
static GVariant *
hash_chain (MpireWorkerContext  *context,
            GVariant            *args,
            gpointer             user_data,
            GError             **error)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gint64 seed = g_variant_get_int64 (args);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (checksum, (const guchar *) &seed, sizeof seed);
  g_checksum_get_digest (checksum, digest, &len);
  for (int i = 1; i < HASH_ROUNDS; i++)
    {
      g_checksum_reset (checksum);
      g_checksum_update (checksum, digest, sizeof digest);
      len = sizeof digest;
      g_checksum_get_digest (checksum, digest, &len);
    }
  g_checksum_reset (checksum);
  g_checksum_update (checksum, digest, sizeof digest);
  return g_variant_new_string (g_checksum_get_string (checksum));
}

typedef struct
{
  GtkApplication  *app;
  MpireTask       *task;
  MpireWorkerPool *pool;

  GtkWidget       *window;
  GtkWidget       *start_button;
  GtkWidget       *cancel_button;
  GtkWidget       *progress_bar;
  GtkWidget       *status;
  GtkNoSelection  *selection;

  MpireResultList *results;
  GCancellable    *cancellable;
  gint64           start_time;
  gint64           cancel_time;

  /* The longest the main loop went without running a 10 ms timer
   * during the run: how frozen the window ever was. */
  guint            heartbeat_id;
  gint64           last_beat;
  gint64           longest_stall;

  guint            ticks;
  int              exit_status;   /* automatic mode: 0 if the run went as expected */
} App;

/* Children of every thread of this process: the workers, zombies
 * included; their /proc/PID/stat lines are added to @report. */
static guint
count_children (GString *report)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;
  guint n = 0;

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_strdup_printf ("/proc/self/task/%s/children", tid);
      g_autofree char *contents = NULL;
      g_auto(GStrv) pids = NULL;

      if (!g_file_get_contents (path, &contents, NULL, NULL))
        continue;
      pids = g_strsplit (g_strstrip (contents), " ", -1);
      for (guint i = 0; pids[i] != NULL; i++)
        {
          g_autofree char *stat_path = g_strdup_printf ("/proc/%s/stat", pids[i]);
          g_autofree char *stat = NULL;

          if (*pids[i] == '\0')
            continue;
          if (g_file_get_contents (stat_path, &stat, NULL, NULL))
            g_string_append_printf (report, "  %s\n", g_strstrip (stat));
          n++;
        }
    }
  return n;
}

static gboolean
heartbeat (gpointer user_data)
{
  App *app = user_data;
  gint64 now = g_get_monotonic_time ();

  app->longest_stall = MAX (app->longest_stall, now - app->last_beat);
  app->last_beat = now;
  return G_SOURCE_CONTINUE;
}

static gboolean
save_screenshot (GtkWidget   *widget,
                 const char  *path,
                 GError     **error)
{
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  GtkSnapshot *snapshot = gtk_snapshot_new ();
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL || width <= 0 || height <= 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "The window has nothing drawn");
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not write %s", path);
      return FALSE;
    }
  return TRUE;
}

/* Automatic mode, at the end: the screenshot once the last state is
 * laid out (a frame after the one that was queued), then quit. */
static gboolean
finish_auto_run (GtkWidget     *widget,
                 GdkFrameClock *clock,
                 gpointer       user_data)
{
  App *app = user_data;
  g_autoptr(GError) error = NULL;

  if (++app->ticks < 2)
    {
      gtk_widget_queue_draw (widget);
      return G_SOURCE_CONTINUE;
    }

  if (screenshot_path != NULL)
    {
      if (save_screenshot (app->window, screenshot_path, &error))
        g_print ("screenshot: %s\n", screenshot_path);
      else
        {
          g_printerr ("screenshot failed: %s\n", error->message);
          app->exit_status = 1;
        }
    }
  gtk_window_destroy (GTK_WINDOW (app->window));
  return G_SOURCE_REMOVE;
}

/* Automatic mode: the run is over; @ok tells whether it went as
 * expected. */
static void
end_auto_run (App      *app,
              gboolean  ok)
{
  if (!auto_run)
    return;
  if (!ok)
    app->exit_status = 1;
  app->ticks = 0;
  gtk_widget_queue_draw (app->window);
  gtk_widget_add_tick_callback (app->window, finish_auto_run, app, NULL);
}

/* After a cancel: how long until no worker process is left. */
static gboolean
watch_children (gpointer user_data)
{
  App *app = user_data;
  gint64 waited = g_get_monotonic_time () - app->cancel_time;
  g_autoptr(GString) report = g_string_new (NULL);
  guint children = count_children (report);
  g_autofree char *text = NULL;

  if (children > 0 && waited < CHILDREN_GONE_TIMEOUT_USEC)
    return G_SOURCE_CONTINUE;

  g_print ("children left: %u (%.0f ms after the cancel)\n%s", children, waited / 1000.0,
           report->str);
  text = g_strdup_printf ("%s; %u worker processes left %.0f ms after Cancel",
                          gtk_label_get_text (GTK_LABEL (app->status)), children, waited / 1000.0);
  gtk_label_set_text (GTK_LABEL (app->status), text);
  end_auto_run (app, children == 0 && auto_cancel_after >= 0);
  return G_SOURCE_REMOVE;
}

static void
on_complete (MpireResultList *results,
             GParamSpec      *pspec,
             App             *app)
{
  const GError *error = mpire_result_list_get_error (results);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (results));
  double seconds = (g_get_monotonic_time () - app->start_time) / (double) G_USEC_PER_SEC;
  g_autofree char *text = NULL;
  gboolean cancelled = error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_handle_id (&app->heartbeat_id, g_source_remove);
  gtk_widget_set_sensitive (app->start_button, TRUE);
  gtk_widget_set_sensitive (app->cancel_button, FALSE);

  if (error == NULL)
    text = g_strdup_printf ("Done: %u hashes in %.1f s", n, seconds);
  else if (cancelled)
    text = g_strdup_printf ("Cancelled after %u of %d hashes; stopped %.0f ms after Cancel",
                            n, n_tasks, (g_get_monotonic_time () - app->cancel_time) / 1000.0);
  else
    text = g_strdup_printf ("Failed after %u hashes: %s", n, error->message);
  gtk_label_set_text (GTK_LABEL (app->status), text);

  g_print ("complete: %u of %d results, %s, %.2f s\n", n, n_tasks,
           error == NULL ? "no error" : error->message, seconds);
  g_print ("longest main loop stall: %.0f ms\n", app->longest_stall / 1000.0);

  if (cancelled)
    {
      g_print ("cancel stopped the call in %.0f ms\n",
               (g_get_monotonic_time () - app->cancel_time) / 1000.0);
      g_timeout_add (20, watch_children, app);
      return;
    }

  /* A run meant to be cancelled must not have finished first. */
  end_auto_run (app, error == NULL && (guint) n_tasks == n && auto_cancel_after < 0);
}

static void
on_progress (MpireWorkerPool *pool,
             gint64           done,
             gint64           total,
             App             *app)
{
  g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT " / %" G_GINT64_FORMAT, done, total);

  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (app->progress_bar),
                                 total > 0 ? (double) done / total : 0);
  gtk_progress_bar_set_text (GTK_PROGRESS_BAR (app->progress_bar), text);
}

static gboolean
press_cancel (gpointer user_data)
{
  App *app = user_data;

  if (gtk_widget_get_sensitive (app->cancel_button))
    g_signal_emit_by_name (app->cancel_button, "clicked");
  return G_SOURCE_REMOVE;
}

static void
on_start (GtkButton *button,
          App       *app)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));
  g_autoptr(GError) error = NULL;

  for (gint64 i = 0; i < n_tasks; i++)
    g_variant_builder_add (builder, "x", i);

  if (app->results != NULL)
    g_signal_handlers_disconnect_by_data (app->results, app);
  g_clear_object (&app->results);
  g_clear_object (&app->cancellable);
  app->cancellable = g_cancellable_new ();
  app->start_time = g_get_monotonic_time ();
  app->last_beat = app->start_time;
  app->longest_stall = 0;

  app->results = mpire_worker_pool_imap_list (app->pool, app->task, g_variant_builder_end (builder),
                                              NULL, app->cancellable, &error);
  if (app->results == NULL)
    {
      gtk_label_set_text (GTK_LABEL (app->status), error->message);
      g_printerr ("could not start: %s\n", error->message);
      end_auto_run (app, FALSE);
      return;
    }

  gtk_no_selection_set_model (app->selection, G_LIST_MODEL (app->results));
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (app->progress_bar), 0);
  gtk_label_set_text (GTK_LABEL (app->status), "Hashing…");
  gtk_widget_set_sensitive (app->start_button, FALSE);
  gtk_widget_set_sensitive (app->cancel_button, TRUE);
  app->heartbeat_id = g_timeout_add (10, heartbeat, app);
  if (auto_run && auto_cancel_after >= 0)
    g_timeout_add ((guint) (auto_cancel_after * 1000), press_cancel, app);
  g_signal_connect (app->results, "notify::complete", G_CALLBACK (on_complete), app);
  if (mpire_result_list_get_complete (app->results))
    on_complete (app->results, NULL, app);
}

static void
on_cancel (GtkButton *button,
           App       *app)
{
  app->cancel_time = g_get_monotonic_time ();
  gtk_widget_set_sensitive (app->cancel_button, FALSE);
  gtk_label_set_text (GTK_LABEL (app->status), "Cancelling…");
  g_cancellable_cancel (app->cancellable);
}

static gboolean
press_start (gpointer user_data)
{
  App *app = user_data;

  g_signal_emit_by_name (app->start_button, "clicked");
  return G_SOURCE_REMOVE;
}

/* The automatic mode starts once the window is on screen. */
static void
on_map (GtkWidget *window,
        App       *app)
{
  if (auto_run)
    g_idle_add (press_start, app);
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_add_css_class (label, "monospace");
  gtk_list_item_set_child (item, label);
}

static void
bind_row (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          gpointer                  user_data)
{
  MpireResult *result = gtk_list_item_get_item (item);
  g_autofree char *text = g_strdup_printf ("%5" G_GINT64_FORMAT "  %s",
                                           mpire_result_get_index (result),
                                           g_variant_get_string (mpire_result_get_value (result), NULL));

  gtk_label_set_text (GTK_LABEL (gtk_list_item_get_child (item)), text);
}

static void
activate (GtkApplication *application,
          App            *app)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *view;
  g_autofree char *title = g_strdup_printf ("Hashing %d numbers on %d worker processes", n_tasks,
                                            n_jobs > 0 ? n_jobs : (int) mpire_cpu_count ());

  app->window = gtk_application_window_new (application);
  gtk_window_set_title (GTK_WINDOW (app->window), title);
  gtk_window_set_default_size (GTK_WINDOW (app->window), 680, 420);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);

  app->start_button = gtk_button_new_with_mnemonic ("_Start");
  app->cancel_button = gtk_button_new_with_mnemonic ("_Cancel");
  gtk_widget_set_sensitive (app->cancel_button, FALSE);
  g_signal_connect (app->start_button, "clicked", G_CALLBACK (on_start), app);
  g_signal_connect (app->cancel_button, "clicked", G_CALLBACK (on_cancel), app);
  gtk_box_append (GTK_BOX (buttons), app->start_button);
  gtk_box_append (GTK_BOX (buttons), app->cancel_button);
  gtk_box_append (GTK_BOX (box), buttons);

  app->progress_bar = gtk_progress_bar_new ();
  gtk_progress_bar_set_show_text (GTK_PROGRESS_BAR (app->progress_bar), TRUE);
  gtk_box_append (GTK_BOX (box), app->progress_bar);

  app->status = gtk_label_new ("Press Start");
  gtk_label_set_xalign (GTK_LABEL (app->status), 0);
  gtk_label_set_wrap (GTK_LABEL (app->status), TRUE);
  gtk_box_append (GTK_BOX (box), app->status);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  app->selection = gtk_no_selection_new (NULL);
  view = gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (app->selection)), factory);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);
  gtk_widget_set_vexpand (scrolled, TRUE);
  gtk_box_append (GTK_BOX (box), scrolled);

  gtk_window_set_child (GTK_WINDOW (app->window), box);
  g_signal_connect (app->window, "map", G_CALLBACK (on_map), app);
  gtk_window_present (GTK_WINDOW (app->window));
}

int
main (int   argc,
      char *argv[])
{
  /* Tasks first, then mpire_init(): a spawned worker runs this program
   * again, finds the task by name and serves it without opening any
   * window. */
  g_autoptr(MpireTask) task = mpire_task_new ("hash-chain", hash_chain, NULL, NULL);
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  App app = { 0 };
  char *app_argv[] = { argv[0], NULL };
  int status;

  mpire_init (&argc, &argv);
  setlocale (LC_ALL, "");

  context = g_option_context_new ("- hash numbers on worker processes in a GTK window");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (n_tasks < 0 || n_jobs < 0)
    {
      g_printerr ("--tasks and --jobs cannot be negative\n");
      return 2;
    }

  app.task = task;
  /* SPAWN: a GTK program has threads of its own; forking it could copy
   * a lock another thread holds. */
  app.pool = mpire_worker_pool_new (n_jobs, MPIRE_START_METHOD_SPAWN);
  g_signal_connect (app.pool, "progress", G_CALLBACK (on_progress), &app);

  app.app = gtk_application_new (NULL, G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app.app, "activate", G_CALLBACK (activate), &app);
  status = g_application_run (G_APPLICATION (app.app), 1, app_argv);

  if (app.results != NULL)
    g_signal_handlers_disconnect_by_data (app.results, &app);
  g_clear_handle_id (&app.heartbeat_id, g_source_remove);
  g_clear_object (&app.results);
  g_clear_object (&app.cancellable);
  g_clear_object (&app.selection);
  g_clear_object (&app.pool);
  g_clear_object (&app.app);
  g_free (screenshot_path);
  return status != 0 ? status : app.exit_status;
}
