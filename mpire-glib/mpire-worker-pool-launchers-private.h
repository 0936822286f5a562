/* mpire-worker-pool-launchers-private.h: the pool's worker-launcher and
 * worker-launchers properties
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <gio/gio.h>

#include "mpire-enums.h"

G_BEGIN_DECLS

/* Part of the pool (its `launchers` field). */
typedef struct
{
  char     **prefix;     /* worker-launcher, or NULL */
  GVariant  *per_worker; /* worker-launchers (`aas`), or NULL */
  GVariant  *effective;  /* what the calls get: one of them as an `aas`, or NULL */
} MpirePoolLaunchers;

void      mpire_pool_launchers_clear   (MpirePoolLaunchers  *self);
void      mpire_pool_launchers_install_properties (GParamSpec  **properties,
                                                   guint         launcher_id,
                                                   guint         launchers_id,
                                                   GParamFlags   flags);
gboolean  mpire_pool_launchers_check   (MpirePoolLaunchers  *self,
                                        MpireStartMethod     start_method,
                                        GError             **error);
int       mpire_pool_launchers_count   (MpirePoolLaunchers  *self,
                                        int                  n_workers);
char    **mpire_pool_launchers_of_worker (GVariant          *launchers,
                                          int                worker_id);
gboolean  mpire_pool_launchers_set_prefix     (MpirePoolLaunchers *self,
                                               const char * const *prefix);
gboolean  mpire_pool_launchers_set_per_worker (MpirePoolLaunchers *self,
                                               GVariant           *per_worker);

G_END_DECLS
