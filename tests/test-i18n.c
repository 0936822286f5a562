/* test-i18n.c: the library's messages in German
 *
 * The test runs with LANGUAGE=de in the C.UTF-8 locale, which is there
 * on any Debian 12, or with --c-locale in the “C” locale of a program
 * that never calls setlocale() (glibc ignores LANGUAGE there; the
 * library looks its messages up under C.UTF-8 then), and binds the
 * library's text domain to the
 * build tree's po/ directory (MPIRE_TEST_LOCALEDIR), after the library
 * bound it to the install prefix: the last bindtextdomain() wins.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <libintl.h>
#include <locale.h>
#include <string.h>

#include <mpire.h>

#include "test-util.h"

static MpireTask *square_task;
static const char *skip_reason;

static GVariant *
square (MpireWorkerContext  *ctx,
        GVariant            *args,
        gpointer             user_data,
        GError             **error)
{
  gint64 x = g_variant_get_int64 (args);

  return g_variant_new_int64 (x * x);
}

static gboolean
check_skip (void)
{
  if (skip_reason == NULL)
    return FALSE;
  g_test_skip (skip_reason);
  return TRUE;
}

/* An error of the pool itself, with a %d. */
static void
test_pool_error (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  if (check_skip ())
    return;

  pool = mpire_worker_pool_new (-1, MPIRE_START_METHOD_THREADING);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "Ein Pool braucht mindestens einen Worker; n-jobs ist -1 "
                   "(0 bedeutet einen pro CPU)");
}

/* A map option's error: German quotes around the option's name, a %lld. */
static void
test_map_option_error (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(MpireMapOptions) options = mpire_map_options_new ();
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;

  if (check_skip ())
    return;

  pool = mpire_worker_pool_new (1, MPIRE_START_METHOD_THREADING);
  mpire_map_options_set_iterable_len (options, -5);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), options, NULL, &error);
  g_assert_null (result);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
                   "Die Map-Option „iterable-len“ muss -1 (unbekannt) oder eine Anzahl von "
                   "Aufgaben sein (sie ist -5)");
}

/* The insights table: plain messages and those with a context (C_()). */
static void
test_insights (void)
{
  g_autoptr(MpireWorkerPool) pool = NULL;
  g_autoptr(GVariant) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (check_skip ())
    return;

  pool = mpire_worker_pool_new (1, MPIRE_START_METHOD_THREADING);
  text = mpire_worker_pool_get_insights_string (pool);
  g_assert_true (g_str_has_prefix (text, "Keine Worker-Insights: Setzen Sie die Eigenschaft "
                                         "enable-insights des Pools"));
  g_clear_pointer (&text, g_free);

  mpire_worker_pool_set_enable_insights (pool, TRUE);
  result = mpire_worker_pool_map (pool, square_task, range_variant (4), NULL, NULL, &error);
  g_assert_no_error (error);
  text = mpire_worker_pool_get_insights_string (pool);
  g_test_message ("%s", text);
  g_assert_true (g_str_has_prefix (text, "Worker-Insights. Erledigte Aufgaben: 4, Worker: 1\n"));
  g_assert_true (g_regex_match_simple ("^Zeit +Gesamt +Mittelwert +Std\\.-Abw\\. +Anteil$", text,
                                       G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Arbeit +[0-9]", text, G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^Worker +Aufgaben +Start +Init +Warten +Arbeit +Exit$",
                                       text, G_REGEX_MULTILINE, 0));
  g_assert_nonnull (strstr (text, "\nLängste Aufgaben:\n"));
}

/* The dashboard's error when every port of its range is taken. */
static void
test_dashboard_error (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(MpireDashboard) dashboard = mpire_dashboard_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;
  guint port;

  if (check_skip ())
    return;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  mpire_dashboard_set_port_range (dashboard, port, port);
  g_assert_false (mpire_dashboard_start (dashboard, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE);
  expected = g_strdup_printf ("Kein freier Port für das Dashboard auf 127.0.0.1 von %u bis %u",
                              port, port);
  g_assert_cmpstr (error->message, ==, expected);
}

int
main (int argc, char **argv)
{
  const char *localedir;
  g_autofree char *mo_file = NULL;

  g_test_init (&argc, &argv, NULL);

  localedir = g_getenv ("MPIRE_TEST_LOCALEDIR");
  g_assert_nonnull (localedir);
  mo_file = g_build_filename (localedir, "de", "LC_MESSAGES", GETTEXT_PACKAGE ".mo", NULL);
  g_assert_true (g_file_test (mo_file, G_FILE_TEST_IS_REGULAR));

  /* Before the first translation: glibc caches them. */
  g_setenv ("LANGUAGE", "de", TRUE);
  if (argc > 1 && g_strcmp0 (argv[1], "--c-locale") == 0)
    {
      locale_t c_utf8 = newlocale (LC_MESSAGES_MASK, "C.UTF-8", (locale_t) 0);

      if (c_utf8 == (locale_t) 0)
        skip_reason = "The C.UTF-8 locale is missing: the C locale has no translations";
      else
        freelocale (c_utf8);
      g_assert_cmpstr (setlocale (LC_MESSAGES, NULL), ==, "C");
    }
  else if (setlocale (LC_ALL, "C.UTF-8") == NULL)
    skip_reason = "The C.UTF-8 locale is missing, and LANGUAGE does not apply in the C locale";

  square_task = mpire_task_new ("square", square, NULL, NULL);
  mpire_init (&argc, &argv);

  /* mpire_init() and the pool's class bind the text domain to LOCALEDIR,
   * once; then the build tree's. */
  g_type_class_unref (g_type_class_ref (MPIRE_TYPE_WORKER_POOL));
  g_assert_nonnull (bindtextdomain (GETTEXT_PACKAGE, localedir));

  g_test_add_func ("/mpire/i18n/pool-error", test_pool_error);
  g_test_add_func ("/mpire/i18n/map-option-error", test_map_option_error);
  g_test_add_func ("/mpire/i18n/insights", test_insights);
  g_test_add_func ("/mpire/i18n/dashboard-error", test_dashboard_error);

  return g_test_run ();
}
