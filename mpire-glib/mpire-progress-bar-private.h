/* mpire-progress-bar-private.h: the terminal progress bar
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MpireProgressBar MpireProgressBar;

MpireProgressBar *mpire_progress_bar_new     (GVariant          *options,
                                              const char        *style,
                                              int                fd,
                                              GError           **error);
void              mpire_progress_bar_update  (MpireProgressBar  *self,
                                              gint64             done,
                                              gint64             total);
void              mpire_progress_bar_finish  (MpireProgressBar  *self,
                                              gint64             done,
                                              gint64             total);
void              mpire_progress_bar_free    (MpireProgressBar  *self);
char             *mpire_progress_bar_render  (MpireProgressBar  *self,
                                              gint64             done,
                                              gint64             total,
                                              double             elapsed,
                                              int                width);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MpireProgressBar, mpire_progress_bar_free)

G_END_DECLS
