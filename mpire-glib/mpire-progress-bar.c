/* mpire-progress-bar.c: the terminal progress bar
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-progress-bar-private.h"

/* A bar like tqdm's, on a terminal only:
 *
 *   Squaring:  45%|█████▍      | 450/1000 [00:02<00:03, 210.47 tasks/s]
 *
 * or, with no known total, "Squaring: 450 tasks [00:02, 210.47 tasks/s]".
 * It is redrawn in place (carriage return, clear to the end of the line)
 * by the call's progress updates, at most about 20 times a second, and
 * left on screen at the end, where it stopped if the call failed. A bar
 * with a position draws that many lines below the cursor and comes back,
 * so that nested pools can each have a line.
 *
 * Off a terminal (a log file, a pipe, nohup) it writes plain lines
 * instead, without colour, cursor moves or carriage returns: the first
 * update, then at most one every PLAIN_INTERVAL_USEC, and the last one,
 * as tqdm does in logs. */

#define PLAIN_INTERVAL_USEC (10 * G_USEC_PER_SEC)

struct _MpireProgressBar
{
  int       fd;
  char     *description;
  char     *unit;
  char     *colour;      /* an SGR sequence, or NULL */
  int       position;
  gboolean  unicode;
  gboolean  rich;        /* the "rich" style */
  gint64    start;
  gboolean  finished;
  gboolean  plain;       /* not a terminal: lines, no control characters */
  gint64    plain_shown; /* when the last plain line was written, or 0 */
};

static const struct {
  const char *name;
  const char *sgr;
} colours[] = {
  { "black", "\033[30m" }, { "red", "\033[31m" }, { "green", "\033[32m" },
  { "yellow", "\033[33m" }, { "blue", "\033[34m" }, { "magenta", "\033[35m" },
  { "cyan", "\033[36m" }, { "white", "\033[37m" },
};

static gboolean
take_string (GVariant    *value,
             const char  *key,
             char       **out,
             GError     **error)
{
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("The progress bar option “%s” must be a string, not of type “%s”"),
                   key, g_variant_get_type_string (value));
      return FALSE;
    }
  g_free (*out);
  *out = g_variant_dup_string (value, NULL);
  return TRUE;
}

static gboolean
parse_colour (MpireProgressBar  *self,
              GVariant          *value,
              GError           **error)
{
  g_autofree char *name = NULL;

  if (!take_string (value, "colour", &name, error))
    return FALSE;

  for (gsize i = 0; i < G_N_ELEMENTS (colours); i++)
    if (g_ascii_strcasecmp (name, colours[i].name) == 0)
      {
        self->colour = g_strdup (colours[i].sgr);
        return TRUE;
      }

  if (name[0] == '#' && strlen (name) == 7 && g_ascii_isxdigit (name[1]))
    {
      guint64 rgb = g_ascii_strtoull (name + 1, NULL, 16);

      self->colour = g_strdup_printf ("\033[38;2;%u;%u;%um", (guint) (rgb >> 16) & 0xff,
                                      (guint) (rgb >> 8) & 0xff, (guint) rgb & 0xff);
      return TRUE;
    }

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("Unknown progress bar colour “%s” (use a name like “green” or “#00ff00”)"),
               name);
  return FALSE;
}

static gboolean
parse_position (MpireProgressBar  *self,
                GVariant          *value,
                GError           **error)
{
  gint64 position = -1;

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT32))
    position = g_variant_get_int32 (value);
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_INT64))
    position = g_variant_get_int64 (value);

  if (position < 0 || position > 1000)
    {
      g_autofree char *text = g_variant_print (value, TRUE);

      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("The progress bar option “position” must be a line number from 0 to "
                     "1000 (an integer), not “%s”"), text);
      return FALSE;
    }
  self->position = (int) position;
  return TRUE;
}

static gboolean
parse_option (MpireProgressBar  *self,
              const char        *key,
              GVariant          *value,
              gboolean          *disable,
              GError           **error)
{
  if (g_str_equal (key, "desc"))
    return take_string (value, key, &self->description, error);
  if (g_str_equal (key, "unit"))
    return take_string (value, key, &self->unit, error);
  if (g_str_equal (key, "colour") || g_str_equal (key, "color"))
    return parse_colour (self, value, error);
  if (g_str_equal (key, "position"))
    return parse_position (self, value, error);
  if (g_str_equal (key, "disable") && g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    {
      *disable = g_variant_get_boolean (value);
      return TRUE;
    }

  g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
               _("Unknown progress bar option “%s” of type “%s” (known: desc, unit, colour, "
                 "position, and disable, a boolean)"),
               key, g_variant_get_type_string (value));
  return FALSE;
}

static gboolean
parse_options (MpireProgressBar  *self,
               GVariant          *options,
               gboolean          *disable,
               GError           **error)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (!g_variant_is_of_type (options, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("Progress bar options must be an a{sv} dictionary, not of type “%s”"),
                   g_variant_get_type_string (options));
      return FALSE;
    }

  g_variant_iter_init (&iter, options);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;

      if (!parse_option (self, key, value, disable, error))
        return FALSE;
    }

  return TRUE;
}

/* "dashboard" is MPIRE's progress on the dashboard only: no bar here;
 * the map reaches the dashboards as every map does
 * (mpire-dashboard-reporter.c). */
static gboolean
parse_style (MpireProgressBar  *self,
             const char        *style,
             gboolean          *disable,
             GError           **error)
{
  if (style == NULL || g_str_equal (style, "std"))
    return TRUE;
  if (g_str_equal (style, "rich"))
    {
      self->rich = TRUE;
      return TRUE;
    }
  if (g_str_equal (style, "dashboard"))
    {
      *disable = TRUE;
      return TRUE;
    }
  if (g_str_equal (style, "notebook"))
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_NOT_SUPPORTED,
                 _("The progress bar style “%s” is not available here (a Jupyter widget); "
                   "use “std”, “rich” or “dashboard”, or the pool’s progress signal"),
                 style);
  else
    g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                 _("Unknown progress bar style “%s” (known: std, rich and dashboard)"), style);
  return FALSE;
}

/* Checks @options (MPIRE's progress_bar_options: desc, unit, colour,
 * position, disable) and @style (MPIRE's progress_bar_style), and
 * returns a bar drawing on @fd (plain lines when it is no terminal), or
 * %NULL without error when the bar is disabled. */
MpireProgressBar *
mpire_progress_bar_new (GVariant    *options,
                        const char  *style,
                        int          fd,
                        GError     **error)
{
  g_autoptr(MpireProgressBar) self = g_new0 (MpireProgressBar, 1);
  gboolean disable = FALSE;
  const char *charset;

  self->fd = fd;
  self->unit = g_strdup (_("tasks"));
  self->unicode = g_get_charset (&charset);
  self->start = g_get_monotonic_time ();

  if (!parse_style (self, style, &disable, error))
    return NULL;
  if (options != NULL && !parse_options (self, options, &disable, error))
    return NULL;
  if (disable)
    return NULL;
  if (!isatty (fd))
    {
      self->plain = TRUE;
      self->rich = FALSE;
      self->unicode = FALSE;
      self->position = 0;
      g_clear_pointer (&self->colour, g_free);
    }

  return g_steal_pointer (&self);
}

static void
append_duration (GString *out,
                 double   seconds)
{
  gint64 s = (gint64) seconds;

  if (s >= 3600)
    g_string_append_printf (out, "%" G_GINT64_FORMAT ":%02d:%02d", s / 3600,
                            (int) (s / 60 % 60), (int) (s % 60));
  else
    g_string_append_printf (out, "%02d:%02d", (int) (s / 60), (int) (s % 60));
}

static void
append_rate (GString          *out,
             MpireProgressBar *self,
             gint64            done,
             double            elapsed)
{
  if (elapsed > 0 && done > 0)
    g_string_append_printf (out, "%.2f %s/s", done / elapsed, self->unit);
  else
    g_string_append_printf (out, "? %s/s", self->unit);
}

static void
append_bar (GString          *out,
            MpireProgressBar *self,
            double            fraction,
            int               width)
{
  static const char * const partial[] = { "", "▏", "▎", "▍", "▌", "▋", "▊", "▉" };
  int eighths = (int) (fraction * width * 8);
  int full = eighths / 8;
  int drawn = full;

  if (self->colour != NULL)
    g_string_append (out, self->colour);
  for (int i = 0; i < full; i++)
    g_string_append (out, self->unicode ? "█" : "#");
  if (full < width && eighths % 8 != 0)
    {
      g_string_append (out, self->unicode ? partial[eighths % 8] : "");
      drawn += self->unicode ? 1 : 0;
    }
  if (self->colour != NULL)
    g_string_append (out, "\033[0m");
  for (int i = drawn; i < width; i++)
    g_string_append_c (out, ' ');
}

/* The rich style's bar: a line, coloured where done (pink, green once
 * complete, or the bar's colour), grey where not, with a half cell at the
 * edge. Plain "std" bar when the terminal takes no Unicode. */
static void
append_rich_bar (GString          *out,
                 MpireProgressBar *self,
                 double            fraction,
                 int               width)
{
  int halves = (int) (fraction * width * 2);
  int full = halves / 2;

  g_string_append (out, self->colour != NULL ? self->colour
                        : fraction >= 1 ? "\033[38;5;70m" : "\033[38;5;197m");
  for (int i = 0; i < full; i++)
    g_string_append (out, "━");
  if (full < width && halves % 2 != 0)
    {
      g_string_append (out, "╸");
      full++;
    }
  g_string_append (out, "\033[38;5;237m");
  for (int i = full; i < width; i++)
    g_string_append (out, "━");
  g_string_append (out, "\033[0m");
}

/* rich's default columns, and counts and rate as MPIRE shows them:
 *
 *   Squaring ━━━━━━━━━━━━━━╸━━━━━━━━━━━━━━━━━  45% 450/1000 00:02 • 00:03 • 210.47 tasks/s */
static char *
render_rich (MpireProgressBar *self,
             gint64            done,
             gint64            total,
             double            elapsed,
             int               width)
{
  GString *left = g_string_new (NULL);
  GString *right = g_string_new (NULL);
  long used;

  if (self->description != NULL && *self->description != '\0')
    g_string_append_printf (left, "%s ", self->description);
  if (total > 0)
    {
      done = CLAMP (done, 0, total);
      g_string_append_printf (right, " %3d%% %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " ",
                              (int) (done * 100 / total), done, total);
    }
  else
    g_string_append_printf (right, " %" G_GINT64_FORMAT " ", done);
  append_duration (right, elapsed);
  if (total > 0)
    {
      g_string_append (right, " • ");
      if (done > 0 && elapsed > 0)
        append_duration (right, (total - done) * elapsed / done);
      else
        g_string_append (right, "-:--:--");
    }
  g_string_append (right, " • ");
  append_rate (right, self, done, elapsed);

  used = g_utf8_strlen (left->str, -1) + g_utf8_strlen (right->str, -1);
  append_rich_bar (left, self, total > 0 ? (double) done / total : 0, (int) MAX (10, width - used));
  g_string_append (left, right->str);
  g_string_free (right, TRUE);
  return g_string_free (left, FALSE);
}

/* One line of the bar, @width columns at most. */
char *
mpire_progress_bar_render (MpireProgressBar *self,
                           gint64            done,
                           gint64            total,
                           double            elapsed,
                           int               width)
{
  GString *left;
  GString *right;
  long left_width, right_width;

  if (self->rich && self->unicode)
    return render_rich (self, done, total, elapsed, width);

  left = g_string_new (NULL);
  right = g_string_new (NULL);

  if (self->description != NULL && *self->description != '\0')
    g_string_append_printf (left, "%s: ", self->description);

  if (total <= 0)
    {
      g_string_append_printf (left, "%" G_GINT64_FORMAT " %s [", done, self->unit);
      append_duration (left, elapsed);
      g_string_append (left, ", ");
      append_rate (left, self, done, elapsed);
      g_string_append_c (left, ']');
      g_string_free (right, TRUE);
      return g_string_free (left, FALSE);
    }

  done = CLAMP (done, 0, total);
  g_string_append_printf (left, "%3d%%|", (int) (done * 100 / total));
  g_string_append_printf (right, "| %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " [", done, total);
  append_duration (right, elapsed);
  g_string_append_c (right, '<');
  if (done > 0 && elapsed > 0)
    append_duration (right, (total - done) * elapsed / done);
  else
    g_string_append (right, "?");
  g_string_append (right, ", ");
  append_rate (right, self, done, elapsed);
  g_string_append_c (right, ']');

  left_width = g_utf8_strlen (left->str, -1);
  right_width = g_utf8_strlen (right->str, -1);
  append_bar (left, self, (double) done / total, (int) MAX (10, width - left_width - right_width));
  g_string_append (left, right->str);
  g_string_free (right, TRUE);
  return g_string_free (left, FALSE);
}

static int
terminal_width (int fd)
{
  struct winsize size;

  if (ioctl (fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
    return size.ws_col;
  return 80;
}

static void
write_all (int         fd,
           const char *data,
           gsize       len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n <= 0)
        break;
      data += n;
      len -= n;
    }
}

static void
draw (MpireProgressBar *self,
      gint64            done,
      gint64            total,
      gboolean          last)
{
  gint64 now = g_get_monotonic_time ();
  double elapsed = (now - self->start) / (double) G_USEC_PER_SEC;
  g_autofree char *line = NULL;
  g_autoptr(GString) out = g_string_new (NULL);

  if (self->plain && !last && self->plain_shown != 0 &&
      now - self->plain_shown < PLAIN_INTERVAL_USEC)
    return;
  line = mpire_progress_bar_render (self, done, total, elapsed, terminal_width (self->fd) - 1);

  if (self->plain)
    {
      self->plain_shown = now;
      g_string_append_printf (out, "%s\n", line);
    }
  else
    {
      for (int i = 0; i < self->position; i++)
        g_string_append_c (out, '\n');
      g_string_append_printf (out, "\r%s\033[K", line);
      if (self->position > 0)
        g_string_append_printf (out, "\r\033[%dA", self->position);
      else if (last)
        g_string_append_c (out, '\n');
    }
  write_all (self->fd, out->str, out->len);
}

void
mpire_progress_bar_update (MpireProgressBar *self,
                           gint64            done,
                           gint64            total)
{
  if (!self->finished)
    draw (self, done, total, FALSE);
}

/* Draws the bar a last time and leaves it on screen. */
void
mpire_progress_bar_finish (MpireProgressBar *self,
                           gint64            done,
                           gint64            total)
{
  if (self->finished)
    return;
  self->finished = TRUE;
  draw (self, done, total, TRUE);
}

void
mpire_progress_bar_free (MpireProgressBar *self)
{
  g_free (self->description);
  g_free (self->unit);
  g_free (self->colour);
  g_free (self);
}
