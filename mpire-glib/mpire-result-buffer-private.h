/* mpire-result-buffer-private.h: a chunk's results, as a worker gathers them
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Results of one type and fixed size (int64, (dd) ...), the usual case,
 * are kept as the bytes of the array they will form, each result freed at
 * once; other results are kept as they are. */
typedef struct _MpireResultBuffer MpireResultBuffer;

MpireResultBuffer *mpire_result_buffer_new   (void);
void               mpire_result_buffer_add   (MpireResultBuffer *self,
                                              GVariant          *result);
void               mpire_result_buffer_clear (MpireResultBuffer *self);
GVariant          *mpire_result_buffer_end   (MpireResultBuffer *self,
                                              gboolean          *boxed);
void               mpire_result_buffer_free  (MpireResultBuffer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireResultBuffer, mpire_result_buffer_free)

G_END_DECLS
