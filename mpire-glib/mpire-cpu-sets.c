/* mpire-cpu-sets.c: the CPUs each worker is pinned to, from MPIRE's cpu_ids
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-cpu-sets-private.h"
#include "mpire-error.h"
#include "mpire-i18n-private.h"
#include "mpire-init.h"

static gboolean
add_cpu (cpu_set_t  *set,
         GVariant   *id,
         GError    **error)
{
  gint64 cpu = -1;
  int n_cpus = mpire_cpu_count ();

  if (g_variant_is_of_type (id, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr(GVariant) inner = g_variant_get_variant (id);
      return add_cpu (set, inner, error);
    }

  if (g_variant_is_of_type (id, G_VARIANT_TYPE_INT32))
    cpu = g_variant_get_int32 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_INT64))
    cpu = g_variant_get_int64 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_UINT32))
    cpu = g_variant_get_uint32 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_UINT64))
    cpu = (gint64) MIN (g_variant_get_uint64 (id), (guint64) G_MAXINT64);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_INT16))
    cpu = g_variant_get_int16 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_UINT16))
    cpu = g_variant_get_uint16 (id);
  else if (g_variant_is_of_type (id, G_VARIANT_TYPE_BYTE))
    cpu = g_variant_get_byte (id);
  else
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("A CPU id must be an integer, not a value of type “%s”"),
                   g_variant_get_type_string (id));
      return FALSE;
    }

  if (cpu < 0 || cpu >= n_cpus || cpu >= CPU_SETSIZE)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("CPU id %lld is out of range: this process may use %d CPUs, "
                     "numbered from 0"), (long long) cpu, n_cpus);
      return FALSE;
    }
  CPU_SET ((int) cpu, set);
  return TRUE;
}

/* One cpu_set_t per worker (@n_jobs of them) from @ids, the pool's
 * cpu-ids property in one of MPIRE's forms. */
GArray *
mpire_cpu_sets_parse (GVariant  *ids,
                      int        n_jobs,
                      GError   **error)
{
  g_autoptr(GArray) sets = g_array_new (FALSE, TRUE, sizeof (cpu_set_t));
  gsize n = g_variant_n_children (ids);

  if (n != 1 && n != (gsize) n_jobs)
    {
      g_set_error (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                   _("cpu-ids has %zu entries: it needs one for all workers or one per "
                     "worker (%d)"), n, n_jobs);
      return NULL;
    }

  g_array_set_size (sets, n_jobs);
  for (int worker = 0; worker < n_jobs; worker++)
    {
      g_autoptr(GVariant) entry = g_variant_get_child_value (ids, n == 1 ? 0 : worker);
      g_autoptr(GVariant) unboxed = g_variant_is_of_type (entry, G_VARIANT_TYPE_VARIANT)
        ? g_variant_get_variant (entry) : g_variant_ref (entry);
      cpu_set_t *set = &g_array_index (sets, cpu_set_t, worker);

      CPU_ZERO (set);
      if (g_variant_is_of_type (unboxed, G_VARIANT_TYPE_ARRAY))
        {
          gsize m = g_variant_n_children (unboxed);

          if (m == 0)
            {
              g_set_error_literal (error, MPIRE_ERROR, MPIRE_ERROR_INVALID_ARGUMENT,
                                   _("cpu-ids has an empty set of CPUs"));
              return NULL;
            }
          for (gsize i = 0; i < m; i++)
            {
              g_autoptr(GVariant) id = g_variant_get_child_value (unboxed, i);

              if (!add_cpu (set, id, error))
                return NULL;
            }
        }
      else if (!add_cpu (set, unboxed, error))
        return NULL;
    }

  return g_steal_pointer (&sets);
}
