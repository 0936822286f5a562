/* mpire-chunker-private.h: how tasks are cut into chunks
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Chunking of one call: either a fixed chunk size, or @n_splits chunks of
 * a known number of tasks whose sizes differ by at most one, as MPIRE's
 * chunk_tasks() cuts them (10 tasks in 3 splits: 4, 3, 3). */
typedef struct
{
  gint64 total;       /* -1 when unknown */
  gint64 chunk_size;  /* > 0 when fixed */
  gint64 n_splits;    /* > 0 when splitting a known total */
} MpireChunker;

gint64    mpire_chunker_chunk_len        (const MpireChunker *chunker,
                                          gint64              chunk_index,
                                          gint64              n_taken);
gint64    mpire_chunker_max_chunk_len    (const MpireChunker *chunker);

gsize     mpire_variant_type_fixed_size  (const GVariantType *type);
GVariant *mpire_array_slice              (GVariant           *array,
                                          gsize               start,
                                          gsize               len);
GVariant *mpire_array_concat             (GPtrArray          *arrays,
                                          gboolean           *boxed,
                                          const GVariantType *empty_type);

G_END_DECLS
