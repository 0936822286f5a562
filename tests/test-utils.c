/* test-utils.c: chunk_tasks and make_single_arguments
 *
 * SPDX-License-Identifier: MIT
 */

#include <mpire.h>

#include "test-util.h"

static GVariant *
range (gint64 n)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));

  for (gint64 i = 0; i < n; i++)
    g_variant_builder_add (builder, "x", i);
  return g_variant_builder_end (builder);
}

static void
assert_chunks (gint64      iterable_len,
               double      chunk_size,
               gint64      n_splits,
               const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) chunks = mpire_chunk_tasks (range (10), iterable_len, chunk_size, n_splits,
                                                  &error);

  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (chunks), ==, "aax");
  assert_printed (chunks, FALSE, expected);
}

/* MPIRE's own examples, and the edges. */
static void
test_chunk_tasks (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) chunks = NULL;

  assert_chunks (-1, 0, 3, "[[0, 1, 2, 3], [4, 5, 6], [7, 8, 9]]");
  assert_chunks (-1, 2.5, 0, "[[0, 1, 2], [3, 4], [5, 6, 7], [8, 9]]");
  assert_chunks (10, 0, 6, "[[0, 1], [2, 3], [4], [5, 6], [7, 8], [9]]");
  assert_chunks (-1, 4, 0, "[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]");
  assert_chunks (-1, 0.1 * 3, 0, "[[0], [1], [2], [3], [4], [5], [6], [7], [8], [9]]");
  assert_chunks (5, 2, 7, "[[0, 1], [2, 3], [4]]");
  assert_chunks (-1, 100, 0, "[[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]");
  assert_chunks (0, 2, 0, "[]");

  /* Elements of variable size are copied, not sliced. */
  chunks = mpire_chunk_tasks (g_variant_new_parsed ("['a', 'bb', 'ccc']"), -1, 2, 0, &error);
  g_assert_no_error (error);
  assert_printed (chunks, FALSE, "[['a', 'bb'], ['ccc']]");
  g_clear_pointer (&chunks, g_variant_unref);

  chunks = mpire_chunk_tasks (range (10), -1, 0, 0, &error);
  g_assert_null (chunks);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  chunks = mpire_chunk_tasks (g_variant_new_int64 (3), -1, 2, 0, &error);
  g_assert_null (chunks);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
}

static void
test_make_single_arguments (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) args = NULL;

  args = mpire_make_single_arguments (g_variant_new_parsed ("[{'x': <0>, 'y': <100>}, {'x': <1>}]"),
                                      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (g_variant_get_type_string (args), ==, "a(a{sv})");
  assert_printed (args, FALSE, "[({'x': <0>, 'y': <100>},), ({'x': <1>},)]");
  g_clear_pointer (&args, g_variant_unref);

  args = mpire_make_single_arguments (range (0), &error);
  g_assert_no_error (error);
  assert_printed (args, TRUE, "@a(x) []");
  g_clear_pointer (&args, g_variant_unref);

  args = mpire_make_single_arguments (g_variant_new_string ("not an array"), &error);
  g_assert_null (args);
  g_assert_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/utils/chunk-tasks", test_chunk_tasks);
  g_test_add_func ("/mpire/utils/make-single-arguments", test_make_single_arguments);

  return g_test_run ();
}
