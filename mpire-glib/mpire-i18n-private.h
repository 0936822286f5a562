/* mpire-i18n-private.h: the library's translated messages
 *
 * Include this instead of <glib/gi18n-lib.h>: _() and C_() look messages
 * up in the library's text domain, with LANGUAGE honoured in the C
 * locale too (mpire-i18n.c).
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <string.h>

#include <glib/gi18n-lib.h>

G_BEGIN_DECLS

#undef _
#undef C_
#define _(String) mpire_gettext (String)
#define C_(Context, String) mpire_pgettext (Context "\004" String, strlen (Context) + 1)

void         mpire_init_gettext (void);
const char  *mpire_gettext      (const char *msgid) G_GNUC_FORMAT (1);
const char  *mpire_pgettext     (const char *msgctxtid,
                                 gsize       msgidoffset) G_GNUC_FORMAT (1);

G_END_DECLS
