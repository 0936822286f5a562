/* example-options.h: the command-line options the C examples share
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <mpire-glib/mpire.h>

/* The --start-method option, into a `char *` @arg. */
#define EXAMPLE_START_METHOD_ENTRY(arg) \
  { "start-method", 'm', 0, G_OPTION_ARG_STRING, (arg), \
    "How workers start: spawn (default), fork, forkserver or threading", "METHOD" }

/* @text as a start method: its nick (spawn, fork, forkserver, threading);
 * @method is left alone when @text is %NULL (the option not given). */
static inline gboolean
example_parse_start_method (const char        *text,
                            MpireStartMethod  *method,
                            GError           **error)
{
  g_autoptr(GEnumClass) methods = NULL;
  GEnumValue *value;

  if (text == NULL)
    return TRUE;
  methods = g_type_class_ref (MPIRE_TYPE_START_METHOD);
  value = g_enum_get_value_by_nick (methods, text);
  if (value == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "Unknown start method “%s”: use spawn, fork, forkserver or threading",
                   text);
      return FALSE;
    }
  *method = value->value;
  return TRUE;
}

/* FALSE with an error when options left an argument in @argv. */
static inline gboolean
example_check_no_arguments (int     argc,
                            char  **argv,
                            GError **error)
{
  if (argc <= 1)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "Unexpected argument “%s”", argv[1]);
  return FALSE;
}
