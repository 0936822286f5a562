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
