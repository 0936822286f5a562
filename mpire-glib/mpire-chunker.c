/* mpire-chunker.c: chunk sizes, array slices and concatenation
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>

#include "mpire-chunker-private.h"

/* The end of split @i (exclusive) is ceil (total * (i + 1) / n_splits). */
static gint64
split_end (const MpireChunker *chunker,
           gint64              i)
{
  unsigned __int128 num = (unsigned __int128) chunker->total * (unsigned __int128) (i + 1);

  return (gint64) ((num + (unsigned __int128) chunker->n_splits - 1) / (unsigned __int128) chunker->n_splits);
}

/* The length of chunk @chunk_index, @n_taken tasks having been taken
 * before it; 0 when no task is left. */
gint64
mpire_chunker_chunk_len (const MpireChunker *chunker,
                         gint64              chunk_index,
                         gint64              n_taken)
{
  gint64 len;

  if (chunker->n_splits > 0)
    len = chunk_index < chunker->n_splits ? split_end (chunker, chunk_index) - n_taken : 0;
  else
    len = chunker->chunk_size;

  if (chunker->total >= 0)
    len = MIN (len, chunker->total - n_taken);

  return MAX (len, 0);
}

gint64
mpire_chunker_max_chunk_len (const MpireChunker *chunker)
{
  if (chunker->n_splits > 0)
    return MAX (1, chunker->total / chunker->n_splits + (chunker->total % chunker->n_splits != 0));
  return chunker->chunk_size;
}

static gsize
align_to (gsize offset,
          gsize alignment)
{
  return (offset + alignment - 1) & ~(alignment - 1);
}

/* Size and alignment of a fixed-size type, following GVariant's
 * serialisation rules; size 0 for types of variable size. */
static gsize
fixed_size_and_alignment (const GVariantType *type,
                          gsize              *alignment)
{
  if (g_variant_type_is_tuple (type) || g_variant_type_is_dict_entry (type))
    {
      gsize offset = 0;
      gsize max_alignment = 1;

      for (const GVariantType *member = g_variant_type_first (type);
           member != NULL;
           member = g_variant_type_next (member))
        {
          gsize member_alignment;
          gsize size = fixed_size_and_alignment (member, &member_alignment);

          if (size == 0)
            return 0;
          offset = align_to (offset, member_alignment) + size;
          max_alignment = MAX (max_alignment, member_alignment);
        }
      *alignment = max_alignment;
      offset = align_to (offset, max_alignment);
      return offset == 0 ? 1 : offset;
    }

  switch (g_variant_type_peek_string (type)[0])
    {
    case 'b': case 'y':
      *alignment = 1;
      return 1;
    case 'n': case 'q':
      *alignment = 2;
      return 2;
    case 'i': case 'u': case 'h':
      *alignment = 4;
      return 4;
    case 'x': case 't': case 'd':
      *alignment = 8;
      return 8;
    default:
      *alignment = 1;
      return 0;
    }
}

gsize
mpire_variant_type_fixed_size (const GVariantType *type)
{
  gsize alignment;

  return fixed_size_and_alignment (type, &alignment);
}

/* Like g_variant_new_array(), taking the (non-floating) references of
 * @children. */
static GVariant *
new_array_take_children (const GVariantType *element_type,
                         GVariant          **children,
                         gsize               n)
{
  GVariant *array = g_variant_new_array (element_type, children, n);

  for (gsize i = 0; i < n; i++)
    g_variant_unref (children[i]);
  return array;
}

/* Whether any bytes of @type's size are a value in normal form: true of
 * the fixed-size numbers, not of booleans (0 or 1) nor of tuples (their
 * padding is 0). */
static gboolean
all_bytes_normal (const GVariantType *type)
{
  return g_variant_type_is_basic (type) && !g_variant_type_equal (type, G_VARIANT_TYPE_BOOLEAN);
}

/* @array (of fixed-size elements) or its normal form, whose bytes can be
 * copied as a trusted array of its elements: a reference either way. */
static GVariant *
ref_copyable (GVariant *array)
{
  const GVariantType *element_type = g_variant_type_element (g_variant_get_type (array));

  if (all_bytes_normal (element_type) || g_variant_is_normal_form (array))
    return g_variant_ref (array);
  return g_variant_get_normal_form (array);
}

/* Elements [start, start + len) of @array, as an array of the same type.
 * Arrays of fixed-size elements are sliced without a copy. */
GVariant *
mpire_array_slice (GVariant *array,
                   gsize     start,
                   gsize     len)
{
  const GVariantType *element_type = g_variant_type_element (g_variant_get_type (array));
  gsize size = mpire_variant_type_fixed_size (element_type);
  g_autofree GVariant **children = NULL;

  g_return_val_if_fail (start + len <= g_variant_n_children (array), NULL);

  if (len == 0)
    return g_variant_new_array (element_type, NULL, 0);

  if (size > 0)
    {
      GVariant *copyable = ref_copyable (array);
      const guint8 *data = g_variant_get_data (copyable);

      return g_variant_new_from_data (g_variant_get_type (array),
                                      data + start * size, len * size, TRUE,
                                      (GDestroyNotify) g_variant_unref, copyable);
    }

  children = g_new (GVariant *, len);
  for (gsize i = 0; i < len; i++)
    children[i] = g_variant_get_child_value (array, start + i);
  return new_array_take_children (element_type, children, len);
}

/* One array of the elements of all @arrays, in order: of their common
 * type when they all have one, otherwise `av`. @boxed has one flag per
 * array: TRUE for an `av` array whose elements are boxed already (the
 * protocol's boxed chunks), which is never unboxed again. With no array
 * at all, the result is an empty array of @empty_type, or `av`. */
GVariant *
mpire_array_concat (GPtrArray          *arrays,
                    gboolean           *boxed,
                    const GVariantType *empty_type)
{
  const GVariantType *type = NULL;
  gboolean same = TRUE;
  gsize n = 0;
  gsize size;
  g_autofree GVariant **children = NULL;
  gsize k = 0;

  for (guint i = 0; i < arrays->len; i++)
    {
      GVariant *array = arrays->pdata[i];

      n += g_variant_n_children (array);
      if (boxed[i] || (type != NULL && !g_variant_type_equal (type, g_variant_get_type (array))))
        same = FALSE;
      type = g_variant_get_type (array);
    }

  if (arrays->len == 0)
    return g_variant_new_array (empty_type != NULL ? empty_type : G_VARIANT_TYPE_VARIANT, NULL, 0);

  if (same && (size = mpire_variant_type_fixed_size (g_variant_type_element (type))) > 0)
    {
      guint8 *data = g_malloc (MAX (1, n * size));
      gsize offset = 0;

      /* An array not in normal form (from another process, or built from
       * bytes) may have more bytes than its elements: only theirs count. */
      for (guint i = 0; i < arrays->len; i++)
        {
          g_autoptr(GVariant) copyable = ref_copyable (arrays->pdata[i]);
          gsize len = g_variant_n_children (copyable) * size;

          if (len > 0)
            memcpy (data + offset, g_variant_get_data (copyable), len);
          offset += len;
        }
      return g_variant_new_from_data (type, data, n * size, TRUE, g_free, data);
    }

  children = g_new (GVariant *, MAX (n, 1));
  for (guint i = 0; i < arrays->len; i++)
    {
      GVariant *array = arrays->pdata[i];
      gsize len = g_variant_n_children (array);

      for (gsize j = 0; j < len; j++)
        {
          GVariant *child = g_variant_get_child_value (array, j);

          if (!same && !boxed[i])
            {
              GVariant *box = g_variant_ref_sink (g_variant_new_variant (child));
              g_variant_unref (child);
              child = box;
            }
          children[k++] = child;
        }
    }

  return new_array_take_children (same ? g_variant_type_element (type) : G_VARIANT_TYPE_VARIANT,
                                  children, n);
}
