/* mpire-i18n.c: the library's translated messages
 *
 * Messages are looked up in the library's text domain as GLib's
 * g_dgettext() does, with one difference. glibc ignores LANGUAGE while
 * the messages locale is “C” or “POSIX”: the locale of a program that
 * never called setlocale() (Python sets only LC_CTYPE), and of every
 * program on a system with no locale configured or under `env -i`, as a
 * fresh Debian is. There a user who sets LANGUAGE=de would still read
 * English. So when LANGUAGE is set and the messages locale is C, the
 * lookup runs in the calling thread under C.UTF-8 (uselocale(), which
 * changes nothing for the rest of the program), where glibc honours
 * LANGUAGE. With LANGUAGE unset nothing differs from g_dgettext().
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <locale.h>

#include "mpire-i18n-private.h"

void
mpire_init_gettext (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
#ifdef ENABLE_NLS
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
      bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
#endif
      g_once_init_leave (&done, 1);
    }
}

#ifdef ENABLE_NLS
/* The locale to look messages up in, when it is not the thread's own:
 * C.UTF-8 while LANGUAGE asks for a language and the messages locale is
 * C; (locale_t) 0 otherwise, or where C.UTF-8 is missing. */
static locale_t
lookup_locale (void)
{
  static gsize c_utf8;
  const char *language = g_getenv ("LANGUAGE");
  const char *messages;

  if (language == NULL || *language == '\0')
    return (locale_t) 0;
  messages = setlocale (LC_MESSAGES, NULL);
  if (messages != NULL && g_strcmp0 (messages, "C") != 0 && g_strcmp0 (messages, "POSIX") != 0)
    return (locale_t) 0;
  if (g_once_init_enter (&c_utf8))
    {
      /* Made once and kept for the life of the process. */
      locale_t made = newlocale (LC_MESSAGES_MASK, "C.UTF-8", (locale_t) 0);

      g_once_init_leave (&c_utf8, made != (locale_t) 0 ? (gsize) made : 1);
    }
  return c_utf8 != 1 ? (locale_t) c_utf8 : (locale_t) 0;
}
#endif

/* g_dpgettext() when @msgidoffset > 0, else g_dgettext(); under
 * lookup_locale() where it gives one. */
static const char *
lookup (const char *msgid,
        gsize       msgidoffset)
{
#ifdef ENABLE_NLS
  locale_t locale = lookup_locale ();
  locale_t previous = (locale_t) 0;
  const char *translated;

  if (locale != (locale_t) 0)
    previous = uselocale (locale);
  translated = msgidoffset > 0 ? g_dpgettext (GETTEXT_PACKAGE, msgid, msgidoffset)
                               : g_dgettext (GETTEXT_PACKAGE, msgid);
  if (locale != (locale_t) 0)
    uselocale (previous);
  return translated;
#else
  return msgidoffset > 0 ? msgid + msgidoffset : msgid;
#endif
}

/* The translation of @msgid, or @msgid (_()). */
const char *
mpire_gettext (const char *msgid)
{
  return lookup (msgid, 0);
}

/* The translation of a message with a context (C_()): @msgctxtid is
 * the context and the message joined by \004, the message starting at
 * @msgidoffset; as g_dpgettext(). */
const char *
mpire_pgettext (const char *msgctxtid,
                gsize       msgidoffset)
{
  return lookup (msgctxtid, msgidoffset);
}
