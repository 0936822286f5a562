/* test-result-buffer.c: how a worker gathers a chunk's results
 *
 * SPDX-License-Identifier: MIT
 */

#include "mpire-result-buffer-private.h"
#include "test-util.h"

static void
add_parsed (MpireResultBuffer *buffer,
            const char        *text)
{
  /* g_variant_parse() gives a reference that is not floating. */
  mpire_result_buffer_add (buffer, g_variant_parse (NULL, text, NULL, NULL, NULL));
}

static void
assert_end (MpireResultBuffer *buffer,
            gboolean           expected_boxed,
            const char        *expected)
{
  gboolean boxed;
  g_autoptr(GVariant) array = g_variant_ref_sink (mpire_result_buffer_end (buffer, &boxed));

  g_assert_cmpint (boxed, ==, expected_boxed);
  assert_printed (array, TRUE, expected);
}

static void
test_result_buffer (void)
{
  g_autoptr(MpireResultBuffer) buffer = mpire_result_buffer_new ();

  /* Fixed size, one type: kept as bytes. */
  add_parsed (buffer, "int64 1");
  add_parsed (buffer, "int64 -4");
  assert_end (buffer, FALSE, "[int64 1, -4]");

  /* Tuples of fixed size too, padding included. */
  add_parsed (buffer, "(byte 1, 2.5)");
  add_parsed (buffer, "(byte 3, -1.0)");
  assert_end (buffer, FALSE, "[(byte 0x01, 2.5), (0x03, -1.0)]");

  /* Another type after some: every result boxed, in order. */
  add_parsed (buffer, "int64 1");
  add_parsed (buffer, "int64 2");
  add_parsed (buffer, "'three'");
  add_parsed (buffer, "int64 4");
  assert_end (buffer, TRUE, "[<int64 1>, <int64 2>, <'three'>, <int64 4>]");

  /* Variable size, one type. */
  add_parsed (buffer, "'a'");
  add_parsed (buffer, "'bc'");
  assert_end (buffer, FALSE, "['a', 'bc']");

  /* Nothing. */
  assert_end (buffer, TRUE, "@av []");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/result-buffer", test_result_buffer);

  return g_test_run ();
}
