/* test-chunker.c: chunk sizes, slices and concatenation
 *
 * SPDX-License-Identifier: MIT
 */

#include "mpire-chunker-private.h"

#include "test-util.h"


static void
assert_chunks (const MpireChunker *chunker,
               const gint64       *expected,
               gsize               n_expected)
{
  gint64 taken = 0;
  gsize i;

  for (i = 0; ; i++)
    {
      gint64 len = mpire_chunker_chunk_len (chunker, i, taken);

      if (len == 0)
        break;
      g_assert_cmpuint (i, <, n_expected);
      g_assert_cmpint (len, ==, expected[i]);
      taken += len;
    }
  g_assert_cmpuint (i, ==, n_expected);
}

/* The examples of MPIRE's chunk_tasks() documentation. */
static void
test_splits (void)
{
  const gint64 three[] = { 4, 3, 3 };
  const gint64 six[] = { 2, 2, 1, 2, 2, 1 };
  const gint64 fixed[] = { 4, 4, 2 };
  MpireChunker by_three = { .total = 10, .n_splits = 3 };
  MpireChunker by_six = { .total = 10, .n_splits = 6 };
  MpireChunker by_four = { .total = 10, .chunk_size = 4 };
  MpireChunker endless = { .total = -1, .chunk_size = 7 };

  assert_chunks (&by_three, three, G_N_ELEMENTS (three));
  assert_chunks (&by_six, six, G_N_ELEMENTS (six));
  assert_chunks (&by_four, fixed, G_N_ELEMENTS (fixed));
  g_assert_cmpint (mpire_chunker_chunk_len (&endless, 1000000, 7000000), ==, 7);
  g_assert_cmpint (mpire_chunker_max_chunk_len (&by_three), ==, 4);
}

static void
test_huge_total (void)
{
  MpireChunker chunker = { .total = G_MAXINT64 / 2, .n_splits = 128 };
  gint64 len = mpire_chunker_chunk_len (&chunker, 127, 0);

  /* No overflow in total * (i + 1). */
  g_assert_cmpint (len, ==, chunker.total);
}

static void
test_fixed_size (void)
{
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("x")), ==, 8);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("b")), ==, 1);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("(ddd)")), ==, 24);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("(yx)")), ==, 16);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("(xy)")), ==, 16);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("(yy)")), ==, 2);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("()")), ==, 1);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("s")), ==, 0);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("(xs)")), ==, 0);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("ax")), ==, 0);
  g_assert_cmpuint (mpire_variant_type_fixed_size (G_VARIANT_TYPE ("v")), ==, 0);
}

static void
test_slice (void)
{
  g_autoptr(GVariant) numbers = g_variant_ref_sink (g_variant_new_parsed ("[@(xy) (1, 2), (3, 4), (5, 6), (7, 8)]"));
  g_autoptr(GVariant) strings = g_variant_ref_sink (g_variant_new_parsed ("['a', 'bb', 'ccc']"));
  g_autoptr(GVariant) middle = g_variant_ref_sink (mpire_array_slice (numbers, 1, 2));
  g_autoptr(GVariant) tail = g_variant_ref_sink (mpire_array_slice (strings, 1, 2));
  g_autoptr(GVariant) expected_middle = g_variant_ref_sink (g_variant_new_parsed ("[@(xy) (3, 4), (5, 6)]"));
  g_autoptr(GVariant) expected_tail = g_variant_ref_sink (g_variant_new_parsed ("['bb', 'ccc']"));

  g_assert_true (g_variant_equal (middle, expected_middle));
  g_assert_true (g_variant_equal (tail, expected_tail));
}

static void
test_concat (void)
{
  g_autoptr(GPtrArray) arrays = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  gboolean boxed[3] = { FALSE, FALSE, TRUE };
  g_autoptr(GVariant) same = NULL;
  g_autoptr(GVariant) mixed = NULL;
  g_autoptr(GVariant) empty = NULL;
  g_autoptr(GVariant) expected_mixed = g_variant_ref_sink (g_variant_new_parsed ("[<@x 1>, <@x 2>, <@x 3>, <'four'>]"));

  empty = g_variant_ref_sink (mpire_array_concat (arrays, boxed, NULL));
  g_assert_cmpstr (g_variant_get_type_string (empty), ==, "av");
  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);

  g_ptr_array_add (arrays, g_variant_ref_sink (g_variant_new_parsed ("[@x 1, 2]")));
  g_ptr_array_add (arrays, g_variant_ref_sink (g_variant_new_parsed ("[@x 3]")));
  same = g_variant_ref_sink (mpire_array_concat (arrays, boxed, NULL));
  assert_printed (same, TRUE, "[int64 1, 2, 3]");

  g_ptr_array_add (arrays, g_variant_ref_sink (g_variant_new_parsed ("[<'four'>]")));
  mixed = g_variant_ref_sink (mpire_array_concat (arrays, boxed, NULL));
  g_assert_true (g_variant_equal (mixed, expected_mixed));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/mpire/chunker/splits", test_splits);
  g_test_add_func ("/mpire/chunker/huge-total", test_huge_total);
  g_test_add_func ("/mpire/chunker/fixed-size", test_fixed_size);
  g_test_add_func ("/mpire/chunker/slice", test_slice);
  g_test_add_func ("/mpire/chunker/concat", test_concat);

  return g_test_run ();
}
