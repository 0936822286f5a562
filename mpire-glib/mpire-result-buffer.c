/* mpire-result-buffer.c: a chunk's results, as a worker gathers them
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-chunker-private.h"
#include "mpire-result-buffer-private.h"

struct _MpireResultBuffer
{
  GVariantType *type;       /* of the first result */
  gsize         size;       /* its fixed size, or 0 */
  GByteArray   *bytes;      /* the data of the first n_bytes results */
  gsize         n_bytes;
  GPtrArray    *values;     /* GVariant: the results after them */
};

MpireResultBuffer *
mpire_result_buffer_new (void)
{
  MpireResultBuffer *self = g_new0 (MpireResultBuffer, 1);

  self->bytes = g_byte_array_new ();
  self->values = g_ptr_array_new_with_free_func ((GDestroyNotify) g_variant_unref);
  return self;
}

void
mpire_result_buffer_clear (MpireResultBuffer *self)
{
  g_clear_pointer (&self->type, g_variant_type_free);
  self->size = 0;
  g_byte_array_set_size (self->bytes, 0);
  self->n_bytes = 0;
  g_ptr_array_set_size (self->values, 0);
}

void
mpire_result_buffer_free (MpireResultBuffer *self)
{
  mpire_result_buffer_clear (self);
  g_byte_array_unref (self->bytes);
  g_ptr_array_unref (self->values);
  g_free (self);
}

/* The results kept as bytes become values again: a result of another
 * type came. */
static void
spill_bytes (MpireResultBuffer *self)
{
  g_autoptr(GPtrArray) values = g_ptr_array_new_full (self->n_bytes + self->values->len,
                                                       (GDestroyNotify) g_variant_unref);

  for (gsize i = 0; i < self->n_bytes; i++)
    {
      g_autoptr(GBytes) data = g_bytes_new (self->bytes->data + i * self->size, self->size);

      g_ptr_array_add (values, g_variant_ref_sink (g_variant_new_from_bytes (self->type, data, TRUE)));
    }
  g_ptr_array_extend_and_steal (values, g_steal_pointer (&self->values));
  self->values = g_steal_pointer (&values);
  g_byte_array_set_size (self->bytes, 0);
  self->n_bytes = 0;
}

/* Takes @result, which is not floating. A value not in normal form (a
 * task's own bytes, or bytes from another process) is kept as its normal
 * form: the buffer copies fixed-size values by their bytes, which only
 * the normal form has in full. */
void
mpire_result_buffer_add (MpireResultBuffer *self,
                         GVariant          *result)
{
  if (!g_variant_is_normal_form (result))
    {
      GVariant *normal = g_variant_get_normal_form (result);

      g_variant_unref (result);
      result = normal;
    }

  if (self->type == NULL)
    {
      self->type = g_variant_type_copy (g_variant_get_type (result));
      self->size = mpire_variant_type_fixed_size (self->type);
    }

  if (self->size > 0 && self->values->len == 0 &&
      g_variant_type_equal (self->type, g_variant_get_type (result)))
    {
      g_byte_array_append (self->bytes, g_variant_get_data (result), self->size);
      self->n_bytes++;
      g_variant_unref (result);
      return;
    }

  if (self->n_bytes > 0)
    spill_bytes (self);
  g_ptr_array_add (self->values, result);
}

/* The results as one array: of their type when they share one, otherwise
 * `av` (@boxed). The buffer is empty again after. */
GVariant *
mpire_result_buffer_end (MpireResultBuffer *self,
                         gboolean          *boxed)
{
  GPtrArray *values = self->values;
  GVariant *array;

  if (self->n_bytes > 0)
    {
      g_autoptr(GVariantType) array_type = g_variant_type_new_array (self->type);
      gsize len = self->bytes->len;
      guint8 *data = g_byte_array_steal (self->bytes, NULL);

      *boxed = FALSE;
      array = g_variant_new_from_data (array_type, data, len, TRUE, g_free, data);
    }
  else if (values->len == 0)
    {
      *boxed = TRUE;
      array = g_variant_new_array (G_VARIANT_TYPE_VARIANT, NULL, 0);
    }
  else
    {
      const GVariantType *type = g_variant_get_type (values->pdata[0]);
      gboolean same = TRUE;

      for (guint i = 1; same && i < values->len; i++)
        same = g_variant_type_equal (type, g_variant_get_type (values->pdata[i]));
      *boxed = !same;
      if (same)
        array = g_variant_new_array (type, (GVariant **) values->pdata, values->len);
      else
        {
          g_autofree GVariant **boxes = g_new (GVariant *, values->len);

          for (guint i = 0; i < values->len; i++)
            boxes[i] = g_variant_new_variant (values->pdata[i]);
          array = g_variant_new_array (G_VARIANT_TYPE_VARIANT, boxes, values->len);
        }
    }

  mpire_result_buffer_clear (self);
  return array;
}
