/* fuzz-arrays.c: chunks' result arrays sliced and concatenated
 *
 * The pool concatenates the result arrays of a call's chunks
 * (mpire_array_concat(), in mpire-map-job.c), which came from workers,
 * and slices arrays (mpire_array_slice()). Input: operations, each a
 * byte then its operands:
 *
 *   0 TYPE FLAG LEN(u16) BYTES  a result array of elements of TYPE read
 *                               from BYTES, boxed (FLAG & 1) if an `av`
 *   1 START(u32) LEN(u32)       a slice of the last array (START and LEN
 *                               brought into its bounds)
 *   2                           the concatenation of all arrays so far
 *   3                           the last array's elements, if they are
 *                               arrays, as arrays of their own (what
 *                               mpire-map-job.c's concatenate_arrays() does)
 *
 * then, at the end, the concatenation of all with an empty type TYPE.
 * Each new array is added to the list. A concatenation has as many
 * elements as its parts, a slice as many as asked.
 *
 * With FUZZ_AVOID_KNOWN=1, result arrays are put in normal form first
 * and empty arrays are not sliced, to fuzz past issue 14's overflow in
 * mpire_array_concat() and the NULL + 0 in mpire_array_slice().
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-chunker-private.h"

#include "fuzz-common.h"

#define MAX_ARRAYS 64
/* Concatenations of all arrays, added to them, double their elements:
 * no more once the arrays hold this many. */
#define MAX_ELEMENTS 4096

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  return 0;
}

typedef struct
{
  GPtrArray *arrays;  /* GVariant */
  GArray    *boxed;   /* gboolean */
} Arrays;

/* Takes @array (floating or not). */
static void
add (Arrays   *arrays,
     GVariant *array,
     gboolean  boxed)
{
  g_variant_take_ref (array);
  fuzz_touch_variant (array);
  if (arrays->arrays->len >= MAX_ARRAYS)
    {
      g_variant_unref (array);
      return;
    }
  g_ptr_array_add (arrays->arrays, array);
  g_array_append_val (arrays->boxed, boxed);
}

static gsize
count_elements (Arrays *arrays)
{
  gsize n = 0;

  for (guint i = 0; i < arrays->arrays->len; i++)
    n += g_variant_n_children (arrays->arrays->pdata[i]);
  return n;
}

static GVariant *
concat (Arrays             *arrays,
        const GVariantType *empty_type,
        gboolean           *boxed)
{
  gsize n = 0;
  GVariant *all;

  /* Boxed parts, or parts of different types, make a boxed `av`. */
  *boxed = FALSE;
  for (guint i = 0; i < arrays->arrays->len; i++)
    {
      n += g_variant_n_children (arrays->arrays->pdata[i]);
      *boxed = *boxed || g_array_index (arrays->boxed, gboolean, i) ||
               !g_variant_type_equal (g_variant_get_type (arrays->arrays->pdata[i]),
                                      g_variant_get_type (arrays->arrays->pdata[0]));
    }
  all = mpire_array_concat (arrays->arrays, (gboolean *) arrays->boxed->data, empty_type);
  g_assert (g_variant_is_of_type (all, G_VARIANT_TYPE_ARRAY));
  g_assert (!*boxed || g_variant_is_of_type (all, G_VARIANT_TYPE ("av")));
  g_assert (g_variant_n_children (all) == n);
  return all;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size };
  Arrays arrays = {
    g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref),
    g_array_new (FALSE, FALSE, sizeof (gboolean)),
  };

  while (in.len > 0)
    {
      guint8 op = fuzz_take_u8 (&in) % 4;
      GVariant *last = arrays.arrays->len > 0
                         ? arrays.arrays->pdata[arrays.arrays->len - 1] : NULL;

      if (op == 0)
        {
          g_autoptr(GVariantType) type = fuzz_take_type (&in);
          gboolean boxed = (fuzz_take_u8 (&in) & 1) &&
                           g_variant_type_equal (type, G_VARIANT_TYPE_VARIANT);
          gsize len = fuzz_take_u16 (&in);
          g_autoptr(GBytes) bytes = fuzz_take_bytes (&in, len);
          g_autoptr(GVariantType) array_type = g_variant_type_new_array (type);

          GVariant *array = fuzz_variant_from_bytes (array_type, bytes);

          if (fuzz_avoid_known ())
            {
              GVariant *normal = g_variant_get_normal_form (array);

              g_variant_unref (g_variant_ref_sink (array));
              array = normal;
            }
          add (&arrays, array, boxed);
        }
      else if (op == 1 && last != NULL &&
               !(fuzz_avoid_known () && g_variant_get_size (last) == 0))
        {
          gsize n = g_variant_n_children (last);
          gsize start = fuzz_take_u32 (&in) % (n + 1);
          gsize len = fuzz_take_u32 (&in) % (n - start + 1);
          GVariant *slice = mpire_array_slice (last, start, len);

          g_assert (g_variant_is_of_type (slice, g_variant_get_type (last)));
          g_assert (g_variant_n_children (slice) == len);
          add (&arrays, slice, g_array_index (arrays.boxed, gboolean, arrays.boxed->len - 1));
        }
      else if (op == 2 && count_elements (&arrays) <= MAX_ELEMENTS)
        {
          gboolean boxed;
          GVariant *all = concat (&arrays, NULL, &boxed);

          add (&arrays, all, boxed);
        }
      else if (op == 3 && last != NULL &&
               g_variant_type_is_array (g_variant_type_element (g_variant_get_type (last))))
        {
          gsize n = g_variant_n_children (last);

          for (gsize i = 0; i < n && arrays.arrays->len < MAX_ARRAYS; i++)
            add (&arrays, g_variant_get_child_value (last, i), FALSE);
        }
    }

  {
    g_autoptr(GVariantType) empty_type = fuzz_take_type (&(FuzzInput) { data, MIN (size, 1) });
    gboolean boxed;
    g_autoptr(GVariant) all = g_variant_ref_sink (concat (&arrays, empty_type, &boxed));

    fuzz_touch_variant (all);
  }

  g_ptr_array_unref (arrays.arrays);
  g_array_unref (arrays.boxed);
  return 0;
}
