/* test-util.h: helpers shared by the C tests
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

/* Asserts that @value prints as @expected. */
static inline void
assert_printed (GVariant   *value,
                gboolean    type_annotate,
                const char *expected)
{
  g_autofree char *text = g_variant_print (value, type_annotate);

  g_assert_cmpstr (text, ==, expected);
}

/* The `ax` [0, 1, ..., n-1], floating. */
static inline GVariant *
range_variant (gint64 n)
{
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("ax"));

  for (gint64 i = 0; i < n; i++)
    g_variant_builder_add (builder, "x", i);
  return g_variant_builder_end (builder);
}
