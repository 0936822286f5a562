/* fuzz-result-buffer.c: a chunk's results gathered, from values that
 * came from another process
 *
 * A worker gathers its tasks' results (which may be its arguments as
 * they came, untrusted); the pool gathers a chunk's results that came in
 * PARTIAL messages (mpire_chunk_keep_results()). Input: operations, each
 * a byte then its operands:
 *
 *   0 TYPE LEN(u16) BYTES   add one value of TYPE read from BYTES
 *   1 TYPE LEN(u16) BYTES   add the elements of an array of TYPE (an `av`'s
 *                           unboxed), as the pool keeps PARTIAL results
 *   2                       end: the array of the results added since
 *   3                       clear
 *
 * TYPE is fuzz_take_type()'s. With FUZZ_AVOID_KNOWN=1, values are put
 * in normal form before they are added. Each end must give as many elements as
 * were added, boxed exactly when it is an `av`.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-result-buffer-private.h"

#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  return 0;
}

/* Takes @value. */
static void
add (MpireResultBuffer *buffer,
     GVariant          *value)
{
  if (fuzz_avoid_known ())
    {
      GVariant *normal = g_variant_get_normal_form (value);

      g_variant_unref (value);
      value = normal;
    }
  mpire_result_buffer_add (buffer, value);
}

static void
end (MpireResultBuffer *buffer,
     gsize              n_added)
{
  gboolean boxed = -1;
  g_autoptr(GVariant) array = g_variant_ref_sink (mpire_result_buffer_end (buffer, &boxed));

  g_assert (boxed == TRUE || boxed == FALSE);
  g_assert (g_variant_is_of_type (array, G_VARIANT_TYPE_ARRAY));
  g_assert (!boxed || g_variant_is_of_type (array, G_VARIANT_TYPE ("av")));
  g_assert (g_variant_n_children (array) == n_added);
  fuzz_touch_variant (array);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size };
  g_autoptr(MpireResultBuffer) buffer = mpire_result_buffer_new ();
  gsize n_added = 0;

  while (in.len > 0)
    {
      guint8 op = fuzz_take_u8 (&in) % 4;

      if (op == 0 || op == 1)
        {
          g_autoptr(GVariantType) type = fuzz_take_type (&in);
          gsize len = fuzz_take_u16 (&in);
          g_autoptr(GBytes) bytes = fuzz_take_bytes (&in, len);

          if (op == 0)
            {
              add (buffer, g_variant_ref_sink (fuzz_variant_from_bytes (type, bytes)));
              n_added++;
            }
          else
            {
              g_autoptr(GVariantType) array_type = g_variant_type_new_array (type);
              g_autoptr(GVariant) array =
                g_variant_ref_sink (fuzz_variant_from_bytes (array_type, bytes));
              gboolean boxed = g_variant_type_equal (type, G_VARIANT_TYPE_VARIANT);
              gsize n = g_variant_n_children (array);

              for (gsize i = 0; i < n; i++)
                {
                  g_autoptr(GVariant) child = g_variant_get_child_value (array, i);

                  add (buffer, boxed ? g_variant_get_variant (child) : g_steal_pointer (&child));
                }
              n_added += n;
            }
        }
      else if (op == 2)
        {
          end (buffer, n_added);
          n_added = 0;
        }
      else
        {
          mpire_result_buffer_clear (buffer);
          n_added = 0;
        }
    }

  end (buffer, n_added);
  return 0;
}
