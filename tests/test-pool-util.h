/* test-pool-util.h: helpers of the C tests that run once per start
 * method (--start-method spawn|fork|forkserver|threading)
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <string.h>

#include "mpire.h"
#include "test-util.h"

/* Defined by each test program, set by parse_start_method(). */
extern MpireStartMethod start_method;

/* The tiny task of the tests: x*x of an `x`. */
static inline GVariant *
square (MpireWorkerContext *ctx, GVariant *args, gpointer data, GError **error)
{
  gint64 x = g_variant_get_int64 (args);
  return g_variant_new_int64 (x * x);
}

/* With `--start-method launched`, the tests run on spawn workers
 * started through a launcher that needs no network: the worker-launcher
 * prefix below, or %NULL. */
static inline const char * const *
test_launcher (void)
{
  static const char * const launcher[] = { "sh", "-c", "exec \"$0\" \"$@\"", NULL };

  return g_strcmp0 (g_getenv ("MPIRE_TEST_START_METHOD"), "launched") == 0 ? launcher : NULL;
}

/* A pool of @n_jobs workers of the start method tested. */
static inline MpireWorkerPool *
test_pool_new (int n_jobs)
{
  MpireWorkerPool *pool = mpire_worker_pool_new (n_jobs, start_method);

  mpire_worker_pool_set_worker_launcher (pool, test_launcher ());
  return pool;
}

/* Adds @func as PREFIX/PATH/METHOD. */
static inline void
add_method_test (const char *prefix,
                 const char *path,
                 GTestFunc   func)
{
  g_autoptr(GEnumClass) methods = g_type_class_ref (MPIRE_TYPE_START_METHOD);
  g_autofree char *full = g_strdup_printf ("%s/%s/%s", prefix, path,
                                           test_launcher () != NULL
                                             ? "launched"
                                             : g_enum_get_value (methods, start_method)->value_nick);

  g_test_add_func (full, func);
}

/* --start-method NAME, kept in the environment for the subprocesses of
 * g_test_trap_subprocess(), which get no such argument. */
static inline void
parse_start_method (int   *argc,
                    char **argv)
{
  g_autoptr(GEnumClass) methods = g_type_class_ref (MPIRE_TYPE_START_METHOD);
  const char *value = g_getenv ("MPIRE_TEST_START_METHOD");
  GEnumValue *method;

  for (int i = 1; i + 1 < *argc; i++)
    {
      if (!g_str_equal (argv[i], "--start-method"))
        continue;

      value = argv[i + 1];
      g_setenv ("MPIRE_TEST_START_METHOD", value, TRUE);
      memmove (&argv[i], &argv[i + 2], (*argc - i - 1) * sizeof (char *));
      *argc -= 2;
      break;
    }

  method = value != NULL ? g_enum_get_value_by_nick (methods, value) : NULL;
  start_method = method != NULL ? (MpireStartMethod) method->value : MPIRE_START_METHOD_SPAWN;
}
