/* mpire-utils.c: MPIRE's utilities for task arguments
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <math.h>

#include "mpire-chunker-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-utils.h"

static gboolean
check_array (GVariant  *iterable,
             GError   **error)
{
  if (g_variant_is_of_type (iterable, G_VARIANT_TYPE_ARRAY))
    return TRUE;
  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("Task arguments must be an array (type “a…”), not a value of type “%s”"),
               g_variant_get_type_string (iterable));
  return FALSE;
}

/**
 * mpire_chunk_tasks:
 * @iterable: an array of task arguments
 * @iterable_len: how many of its elements to chunk, or -1 for all
 * @chunk_size: the number of tasks in a chunk, which may be fractional
 *   (2.5 gives chunks of 3, 2, 3, 2 ...), or 0 to use @n_splits
 * @n_splits: the number of chunks to cut the tasks into, used when
 *   @chunk_size is 0
 * @error: return location for a #GError
 *
 * Cuts @iterable into chunks the way a map does: MPIRE's
 * `chunk_tasks()`. Chunk k ends after task ⌈@chunk_size × (k + 1)⌉, and
 * has at least one task; @n_splits chunks of N tasks are chunks of
 * N / @n_splits tasks. Arrays of fixed-size elements are sliced without
 * a copy.
 *
 * An @iterable that is not an array, or neither a positive @chunk_size
 * nor a positive @n_splits, fails with %MPIRE_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): an array of the chunks, each an array of
 *   @iterable's type (`aax` for an `ax`)
 *
 * Since: 0.1
 */
GVariant *
mpire_chunk_tasks (GVariant  *iterable,
                   gint64     iterable_len,
                   double     chunk_size,
                   gint64     n_splits,
                   GError   **error)
{
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(GVariantType) chunks_type = NULL;
  g_autoptr(GVariantBuilder) chunks = NULL;
  gsize total, start = 0;

  g_return_val_if_fail (iterable != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (iterable);
  if (!check_array (iterable, error))
    return NULL;
  if (!(chunk_size > 0) && n_splits <= 0)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("Chunking needs a positive chunk size or number of splits (they are %g "
                     "and %lld)"), chunk_size, (long long) n_splits);
      return NULL;
    }

  total = g_variant_n_children (iterable);
  if (iterable_len >= 0)
    total = MIN (total, (gsize) iterable_len);
  if (!(chunk_size > 0))
    chunk_size = (double) total / (double) n_splits;

  chunks_type = g_variant_type_new_array (g_variant_get_type (iterable));
  chunks = g_variant_builder_new (chunks_type);
  for (gsize k = 0; start < total; k++)
    {
      /* Less a hair, so that 0.1 × 3 is not taken for a bit more than 0.3. */
      double end = ceil (chunk_size * (double) (k + 1) - 1e-9);
      gsize stop = end >= (double) total ? total : MAX ((gsize) end, start + 1);

      g_variant_builder_add_value (chunks, mpire_array_slice (iterable, start, stop - start));
      start = stop;
    }
  return g_variant_ref_sink (g_variant_builder_end (chunks));
}

/**
 * mpire_make_single_arguments:
 * @iterable: an array of single task arguments
 * @error: return location for a #GError
 *
 * Wraps each element of @iterable in a tuple of one: MPIRE's
 * `make_single_arguments()`. A task then receives `(x)` rather than `x`,
 * as when a map's arguments are tuples of several. An @iterable that is
 * not an array fails with %MPIRE_ERROR_INVALID_ARGUMENT.
 *
 * Returns: (transfer full): an array of one-element tuples (`a(x)` for an
 *   `ax`)
 *
 * Since: 0.1
 */
GVariant *
mpire_make_single_arguments (GVariant  *iterable,
                             GError   **error)
{
  g_autoptr(GVariant) owned = NULL;
  g_autoptr(GVariantBuilder) tuples = NULL;
  const GVariantType *element_type;
  gsize n;

  g_return_val_if_fail (iterable != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  owned = g_variant_ref_sink (iterable);
  if (!check_array (iterable, error))
    return NULL;

  element_type = g_variant_type_element (g_variant_get_type (iterable));
  n = g_variant_n_children (iterable);
  {
    g_autoptr(GVariantType) tuple_type = g_variant_type_new_tuple (&element_type, 1);
    g_autoptr(GVariantType) array_type = g_variant_type_new_array (tuple_type);

    tuples = g_variant_builder_new (array_type);
  }
  for (gsize i = 0; i < n; i++)
    {
      GVariant *element = g_variant_get_child_value (iterable, i);

      g_variant_builder_add_value (tuples, g_variant_new_tuple (&element, 1));
      g_variant_unref (element);
    }
  return g_variant_ref_sink (g_variant_builder_end (tuples));
}
