/* gtk-hashes.c: a GTK 4 window that runs thousands of CPU-heavy tasks on
 * worker processes without freezing
 *
 * Each task hashes a number 40,000 times over with SHA-256 (about 10 ms
 * of CPU). Start, in the header bar, runs them with
 * mpire_worker_pool_imap_list(): the list fills as the results come in,
 * the progress bar and the status line follow the pool's `progress`
 * signal, and Cancel stops the call through its GCancellable, which
 * kills the workers running it. Before the first run the window shows
 * what Start will do; errors show as toasts.
 *
 * Usage: gtk-hashes [OPTION...]
 *   --tasks N                 number of tasks (default 3000)
 *   --jobs N                  worker processes (default: one per CPU)
 *   --auto-run                press Start once the window is up, quit
 *                             when the run is over
 *   --auto-cancel-after SECS  with --auto-run: press Cancel SECS after
 *                             Start
 *   --screenshot FILE         save the window as a PNG before quitting;
 *                             without --auto-run: save it as first shown,
 *                             then quit
 *
 * With --auto-run it prints what happened on standard output and exits
 * with 0 only if the run went as expected: every result in the list, or
 * for a cancelled run, the call cancelled and no worker process left.
 * With MPIRE_GTK_HASHES_PRINT_TREE set in the environment, it also
 * prints the widgets on screen before quitting, one "widget:" line each
 * with its ancestors (for the tests).
 *
 * SPDX-License-Identifier: MIT
 */

#include <locale.h>
#include <string.h>

#include <adwaita.h>
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
    "Save the window as a PNG before quitting (without --auto-run: as first shown)", "FILE" },
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
  AdwApplication  *app;
  MpireTask       *task;
  MpireWorkerPool *pool;

  GtkWidget       *window;
  GtkWidget       *toast_overlay;
  GtkWidget       *start_button;
  GtkWidget       *cancel_button;
  GtkWidget       *stack;
  GtkWidget       *progress_bar;
  GtkWidget       *status_bar;
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

/* @n in digits grouped by threes, with the locale's thousands separator
 * (a comma where the locale has none): "12,345". */
static char *
format_count (guint64 n)
{
  const char *separator = localeconv ()->thousands_sep;
  g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, n);
  size_t len = strlen (digits);
  GString *text = g_string_new (NULL);

  if (separator == NULL || *separator == '\0')
    separator = ",";
  for (size_t i = 0; i < len; i++)
    {
      if (i > 0 && (len - i) % 3 == 0)
        g_string_append (text, separator);
      g_string_append_c (text, digits[i]);
    }
  return g_string_free (text, FALSE);
}

static void
set_status (App        *app,
            const char *text)
{
  gtk_label_set_text (GTK_LABEL (app->status), text);
  gtk_widget_set_visible (app->status_bar, TRUE);
}

/* Errors go to a toast, and to standard error for the record. */
static void
show_error (App        *app,
            const char *message)
{
  AdwToast *toast = adw_toast_new (message);

  adw_toast_set_timeout (toast, 0);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (app->toast_overlay), toast);
  g_printerr ("error: %s\n", message);
}

/* Automatic mode, with MPIRE_GTK_HASHES_PRINT_TREE set: each widget on
 * screen under @widget as "widget: Ancestor/…/Type [button label]
 * \"label text\" .css-class (insensitive)". */
static void
print_tree (GtkWidget  *widget,
            const char *parent_path)
{
  g_autofree char *path = NULL;
  g_auto(GStrv) classes = NULL;
  g_autoptr(GString) line = NULL;

  if (!gtk_widget_get_mapped (widget))
    return;

  if (parent_path != NULL)
    path = g_strconcat (parent_path, "/", G_OBJECT_TYPE_NAME (widget), NULL);
  else
    path = g_strdup (G_OBJECT_TYPE_NAME (widget));

  line = g_string_new (path);
  if (GTK_IS_BUTTON (widget) && gtk_button_get_label (GTK_BUTTON (widget)) != NULL)
    g_string_append_printf (line, " [%s]", gtk_button_get_label (GTK_BUTTON (widget)));
  if (GTK_IS_LABEL (widget))
    g_string_append_printf (line, " \"%s\"", gtk_label_get_text (GTK_LABEL (widget)));
  if (ADW_IS_STATUS_PAGE (widget))
    g_string_append_printf (line, " \"%s\"", adw_status_page_get_title (ADW_STATUS_PAGE (widget)));
  classes = gtk_widget_get_css_classes (widget);
  for (guint i = 0; classes[i] != NULL; i++)
    g_string_append_printf (line, " .%s", classes[i]);
  if (!gtk_widget_get_sensitive (widget))
    g_string_append (line, " (insensitive)");
  g_print ("widget: %s\n", line->str);

  /* The rows of the list: the first few tell enough. */
  if (GTK_IS_LIST_VIEW (widget))
    return;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    print_tree (child, path);
}

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

  g_print ("status: %s\n", gtk_widget_get_visible (app->status_bar) ?
                               gtk_label_get_text (GTK_LABEL (app->status)) : "");
  if (g_getenv ("MPIRE_GTK_HASHES_PRINT_TREE") != NULL)
    print_tree (app->window, NULL);

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

/* Automatic mode: the run is over (or, with only --screenshot, the
 * window is up); @ok tells whether it went as expected. */
static void
end_auto_run (App      *app,
              gboolean  ok)
{
  if (!auto_run && screenshot_path == NULL)
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

  if (children > 0 && waited < CHILDREN_GONE_TIMEOUT_USEC)
    return G_SOURCE_CONTINUE;

  g_print ("children left: %u (%.0f ms after the cancel)\n%s", children, waited / 1000.0,
           report->str);
  if (children > 0)
    {
      g_autofree char *message =
        g_strdup_printf (g_dngettext (NULL, "%u worker process is still running after Cancel",
                                      "%u worker processes are still running after Cancel",
                                      children),
                         children);
      show_error (app, message);
    }
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
  g_autofree char *done = format_count (n);
  g_autofree char *total = format_count ((guint64) n_tasks);
  gboolean cancelled = error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  g_clear_handle_id (&app->heartbeat_id, g_source_remove);
  gtk_widget_set_sensitive (app->start_button, TRUE);
  gtk_widget_set_sensitive (app->cancel_button, FALSE);
  gtk_widget_set_visible (app->progress_bar, FALSE);

  if (error == NULL)
    text = g_strdup_printf ("Done: %s hashes in %.1f s", done, seconds);
  else if (cancelled)
    text = g_strdup_printf ("Cancelled after %s of %s hashes", done, total);
  else
    {
      g_autofree char *message = g_strdup_printf ("Hashing failed: %s", error->message);

      text = g_strdup_printf ("Failed after %s of %s hashes", done, total);
      show_error (app, message);
    }
  set_status (app, text);

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
  g_autofree char *done_text = format_count ((guint64) MAX (done, 0));
  g_autofree char *total_text = format_count ((guint64) MAX (total, 0));
  g_autofree char *text = g_strdup_printf ("Hashing %s of %s numbers…", done_text, total_text);

  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (app->progress_bar),
                                 total > 0 ? (double) done / total : 0);
  /* Only while the run goes on: not over "Cancelling…" or the outcome. */
  if (app->results != NULL && !mpire_result_list_get_complete (app->results) &&
      !g_cancellable_is_cancelled (app->cancellable))
    set_status (app, text);
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
  g_autofree char *total = format_count ((guint64) n_tasks);
  g_autofree char *text = NULL;

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
      g_autofree char *message = g_strdup_printf ("Could not start: %s", error->message);

      set_status (app, "Could not start");
      show_error (app, message);
      end_auto_run (app, FALSE);
      return;
    }

  gtk_no_selection_set_model (app->selection, G_LIST_MODEL (app->results));
  gtk_stack_set_visible_child_name (GTK_STACK (app->stack), "results");
  gtk_progress_bar_set_fraction (GTK_PROGRESS_BAR (app->progress_bar), 0);
  gtk_widget_set_visible (app->progress_bar, TRUE);
  text = g_strdup_printf ("Hashing 0 of %s numbers…", total);
  set_status (app, text);
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
  set_status (app, "Cancelling…");
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
  else if (screenshot_path != NULL)
    end_auto_run (app, TRUE);
}

static void
setup_row (GtkSignalListItemFactory *factory,
           GtkListItem              *item,
           gpointer                  user_data)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_widget_set_margin_start (label, 12);
  gtk_widget_set_margin_end (label, 12);
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
activate (GApplication *application,
          App          *app)
{
  int jobs = n_jobs > 0 ? n_jobs : (int) mpire_cpu_count ();
  g_autofree char *total = format_count ((guint64) n_tasks);
  g_autofree char *subtitle = g_strdup_printf (g_dngettext (NULL, "%s numbers on %d worker process",
                                                            "%s numbers on %d worker processes", jobs),
                                               total, jobs);
  g_autofree char *rounds = format_count (HASH_ROUNDS);
  g_autofree char *description =
    g_strdup_printf ("Start hashes %s numbers, each %s times over with SHA-256, on worker "
                     "processes. The window stays responsive, and Cancel stops them at once.",
                     total, rounds);
  GtkWidget *content = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header_bar = adw_header_bar_new ();
  GtkWidget *overlay = gtk_overlay_new ();
  GtkWidget *status_page = adw_status_page_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *view;

  app->window = adw_application_window_new (GTK_APPLICATION (application));
  gtk_window_set_title (GTK_WINDOW (app->window), "Hashes");
  gtk_window_set_default_size (GTK_WINDOW (app->window), 680, 460);

  /* The header bar holds the actions. */
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header_bar),
                                   adw_window_title_new ("Hashes", subtitle));
  app->start_button = gtk_button_new_with_mnemonic ("_Start");
  gtk_widget_add_css_class (app->start_button, "suggested-action");
  gtk_widget_set_tooltip_text (app->start_button, "Hash the numbers on the worker processes");
  app->cancel_button = gtk_button_new_with_mnemonic ("_Cancel");
  gtk_widget_set_tooltip_text (app->cancel_button, "Stop the run and its worker processes");
  gtk_widget_set_sensitive (app->cancel_button, FALSE);
  g_signal_connect (app->start_button, "clicked", G_CALLBACK (on_start), app);
  g_signal_connect (app->cancel_button, "clicked", G_CALLBACK (on_cancel), app);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header_bar), app->start_button);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header_bar), app->cancel_button);
  gtk_box_append (GTK_BOX (content), header_bar);

  /* The empty state before the first run, then the list of results, a
   * thin progress bar along the top of either while a run goes on. */
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status_page), "system-run-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status_page), "No Hashes Yet");
  adw_status_page_set_description (ADW_STATUS_PAGE (status_page), description);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_row), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row), NULL);
  app->selection = gtk_no_selection_new (NULL);
  view = gtk_list_view_new (GTK_SELECTION_MODEL (g_object_ref (app->selection)), factory);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), view);

  app->stack = gtk_stack_new ();
  gtk_stack_add_named (GTK_STACK (app->stack), status_page, "empty");
  gtk_stack_add_named (GTK_STACK (app->stack), scrolled, "results");
  gtk_stack_set_visible_child_name (GTK_STACK (app->stack), "empty");
  gtk_overlay_set_child (GTK_OVERLAY (overlay), app->stack);

  app->progress_bar = gtk_progress_bar_new ();
  gtk_widget_add_css_class (app->progress_bar, "osd");
  gtk_widget_set_valign (app->progress_bar, GTK_ALIGN_START);
  gtk_widget_set_visible (app->progress_bar, FALSE);
  gtk_overlay_add_overlay (GTK_OVERLAY (overlay), app->progress_bar);
  gtk_widget_set_vexpand (overlay, TRUE);
  gtk_box_append (GTK_BOX (content), overlay);

  /* The status line, once there is something to tell. */
  app->status = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (app->status), 0);
  gtk_label_set_ellipsize (GTK_LABEL (app->status), PANGO_ELLIPSIZE_END);
  app->status_bar = gtk_action_bar_new ();
  gtk_action_bar_pack_start (GTK_ACTION_BAR (app->status_bar), app->status);
  gtk_widget_set_visible (app->status_bar, FALSE);
  gtk_box_append (GTK_BOX (content), app->status_bar);

  app->toast_overlay = adw_toast_overlay_new ();
  adw_toast_overlay_set_child (ADW_TOAST_OVERLAY (app->toast_overlay), content);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (app->window), app->toast_overlay);
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

  app.app = adw_application_new (NULL, G_APPLICATION_NON_UNIQUE);
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
