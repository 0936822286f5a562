/* bench-remote.c: the pools of the remote workloads, whose workers run
 * on other hosts through ssh (run.sh makes the hosts: network
 * namespaces of this machine, each with an sshd; see
 * tests/netns-sshd.sh)
 *
 * SPDX-License-Identifier: MIT
 */

#include "bench-workloads.h"

/* The worker-launchers (`aas`, floating) of a pool of @n_local local
 * workers, then @n_remote over ssh, taking the @ssh commands (each one
 * the whole command up to and with the host, shell words) in turn. */
GVariant *
remote_launchers (char   **ssh,
                  int      n_local,
                  int      n_remote,
                  GError **error)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("aas"));
  guint n_ssh = g_strv_length (ssh);

  g_assert (n_ssh > 0);
  for (int i = 0; i < n_local; i++)
    g_variant_builder_add_value (&builder, g_variant_new_strv (NULL, 0));
  for (int i = 0; i < n_remote; i++)
    {
      g_auto(GStrv) argv = NULL;

      if (!g_shell_parse_argv (ssh[i % n_ssh], NULL, &argv, error))
        return NULL;
      g_variant_builder_add_value (&builder,
                                   g_variant_new_strv ((const char * const *) argv, -1));
    }
  return g_variant_builder_end (&builder);
}
