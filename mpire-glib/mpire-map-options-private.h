/* mpire-map-options-private.h
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include "mpire-map-options.h"

G_BEGIN_DECLS

/* The lazy source of a call, taken out of the options: the call owns it
 * from then on, so that the options can be reused. */
typedef struct
{
  MpireSourceFunc func;
  gpointer        user_data;
  GDestroyNotify  destroy;
} MpireSource;

MpireSource *mpire_map_options_steal_source (MpireMapOptions *self);
gboolean     mpire_map_options_check_timeouts (MpireMapOptions  *self,
                                               GError          **error);
void         mpire_source_free              (MpireSource     *source);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireSource, mpire_source_free)

G_END_DECLS
