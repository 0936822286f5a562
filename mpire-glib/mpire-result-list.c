/* mpire-result-list.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-result-iter-private.h"
#include "mpire-result-list-private.h"
#include "mpire-result-private.h"

/**
 * MpireResultList:
 *
 * The results of an [method@Mpire.WorkerPool.imap_list] or
 * [method@Mpire.WorkerPool.imap_unordered_list] call as a [iface@Gio.ListModel]
 * of [class@Mpire.Result] that grows while they come in: in input order
 * for `imap_list`, in completion order for `imap_unordered_list`. It can
 * be the model of a `GtkListView` as it is.
 *
 * It fills in the thread-default main context of the thread that
 * started the call, so that thread must run it (a GTK application's main
 * loop does). Results that arrive together are added together:
 * [signal@Gio.ListModel::items-changed] is emitted at most once per
 * main context dispatch, never once per result, so a call with a
 * million small tasks does not flood a user interface.
 *
 * When the call ends, [property@Mpire.ResultList:complete] becomes
 * %TRUE; if it failed (a task's error, a dead worker, cancellation),
 * [property@Mpire.ResultList:error] tells why first and the list keeps
 * the results that came before. A call can be over by the time the list
 * is returned: check [property@Mpire.ResultList:complete] before waiting
 * for it to change.
 *
 * The call holds the pool until it is complete; dropping the list
 * before that stops the remaining work.
 *
 * Since: 0.1
 */

typedef struct
{
  GVariant *value;
  gint64    index;
} Entry;

struct _MpireResultList
{
  GObject          parent_instance;

  MpireResultIter *iter;         /* until complete */
  GArray          *entries;      /* Entry */
  GError          *error;
  gboolean         complete;
};

static void mpire_result_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MpireResultList, mpire_result_list, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL,
                                                      mpire_result_list_model_init))

enum {
  PROP_0,
  PROP_N_ITEMS,
  PROP_COMPLETE,
  PROP_ERROR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static GType
mpire_result_list_get_item_type (GListModel *model)
{
  return MPIRE_TYPE_RESULT;
}

static guint
mpire_result_list_get_n_items (GListModel *model)
{
  return MPIRE_RESULT_LIST (model)->entries->len;
}

static gpointer
mpire_result_list_get_item (GListModel *model,
                            guint       position)
{
  MpireResultList *self = MPIRE_RESULT_LIST (model);
  Entry *entry;

  if (position >= self->entries->len)
    return NULL;
  entry = &g_array_index (self->entries, Entry, position);
  return mpire_result_new (entry->value, entry->index);
}

static void
mpire_result_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = mpire_result_list_get_item_type;
  iface->get_n_items = mpire_result_list_get_n_items;
  iface->get_item = mpire_result_list_get_item;
}

static void
entry_clear (Entry *entry)
{
  g_variant_unref (entry->value);
}

static void
drop_iter (MpireResultList *self)
{
  if (self->iter == NULL)
    return;
  mpire_result_iter_set_changed_func (self->iter, NULL, NULL);
  g_clear_object (&self->iter);
}

static void
mpire_result_list_dispose (GObject *object)
{
  drop_iter (MPIRE_RESULT_LIST (object));

  G_OBJECT_CLASS (mpire_result_list_parent_class)->dispose (object);
}

static void
mpire_result_list_finalize (GObject *object)
{
  MpireResultList *self = MPIRE_RESULT_LIST (object);

  g_clear_pointer (&self->entries, g_array_unref);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (mpire_result_list_parent_class)->finalize (object);
}

static void
mpire_result_list_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  MpireResultList *self = MPIRE_RESULT_LIST (object);

  switch (prop_id)
    {
    case PROP_N_ITEMS:
      g_value_set_uint (value, self->entries->len);
      break;

    case PROP_COMPLETE:
      g_value_set_boolean (value, self->complete);
      break;

    case PROP_ERROR:
      g_value_set_boxed (value, self->error);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_result_list_class_init (MpireResultListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = mpire_result_list_dispose;
  object_class->finalize = mpire_result_list_finalize;
  object_class->get_property = mpire_result_list_get_property;

  /**
   * MpireResultList:n-items:
   *
   * The number of results in the list so far.
   *
   * Since: 0.1
   */
  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MpireResultList:complete: (getter get_complete)
   *
   * Whether the call has ended: every result is in the list, or
   * [property@Mpire.ResultList:error] is set. It is notified once.
   *
   * Since: 0.1
   */
  properties[PROP_COMPLETE] =
    g_param_spec_boolean ("complete", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MpireResultList:error: (getter get_error)
   *
   * Why the call failed, or %NULL: set before
   * [property@Mpire.ResultList:complete] is notified.
   *
   * Since: 0.1
   */
  properties[PROP_ERROR] =
    g_param_spec_boxed ("error", NULL, NULL, G_TYPE_ERROR,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mpire_result_list_init (MpireResultList *self)
{
  self->entries = g_array_new (FALSE, FALSE, sizeof (Entry));
  g_array_set_clear_func (self->entries, (GDestroyNotify) entry_clear);
}

/* Takes every result there is now and tells them in one go; at the
 * end, lets the call go. */
static void
take_results (MpireResultIter *iter,
              gpointer         data)
{
  g_autoptr(MpireResultList) self = g_object_ref (MPIRE_RESULT_LIST (data));
  guint before = self->entries->len;
  GError *error = NULL;
  MpireJobNext next;
  Entry entry;

  while ((next = mpire_result_iter_poll (iter, &entry.value, &entry.index, &error)) ==
         MPIRE_JOB_NEXT_ITEM)
    g_array_append_val (self->entries, entry);

  if (next != MPIRE_JOB_NEXT_WAIT)
    {
      drop_iter (self);
      self->error = error;
      self->complete = TRUE;
    }

  if (self->entries->len > before)
    {
      g_list_model_items_changed (G_LIST_MODEL (self), before, 0, self->entries->len - before);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
    }
  if (self->complete)
    {
      if (self->error != NULL)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COMPLETE]);
    }
}

/* @iter: a call started in the thread-default main context. */
MpireResultList *
mpire_result_list_new (MpireResultIter *iter)
{
  MpireResultList *self = g_object_new (MPIRE_TYPE_RESULT_LIST, NULL);

  self->iter = g_object_ref (iter);
  mpire_result_iter_set_changed_func (iter, take_results, self);
  /* A call can be over before it is handed to the list. */
  take_results (iter, self);
  return self;
}

/**
 * mpire_result_list_get_complete:
 * @self: a result list
 *
 * Gets whether the call has ended, with or without an error.
 *
 * Returns: %TRUE once the list will not change any more
 *
 * Since: 0.1
 */
gboolean
mpire_result_list_get_complete (MpireResultList *self)
{
  g_return_val_if_fail (MPIRE_IS_RESULT_LIST (self), FALSE);

  return self->complete;
}

/**
 * mpire_result_list_get_error:
 * @self: a result list
 *
 * Gets why the call failed.
 *
 * Returns: (transfer none) (nullable): the call's error, or %NULL while
 *   it runs or if it succeeded
 *
 * Since: 0.1
 */
const GError *
mpire_result_list_get_error (MpireResultList *self)
{
  g_return_val_if_fail (MPIRE_IS_RESULT_LIST (self), NULL);

  return self->error;
}

/**
 * mpire_result_list_get_value:
 * @self: a result list
 * @position: the position of a result in the list
 *
 * Gets the value of the result at @position without making a
 * [class@Mpire.Result] for it.
 *
 * Returns: (transfer none) (nullable): the result, or %NULL if
 *   @position is not less than the number of results
 *
 * Since: 0.1
 */
GVariant *
mpire_result_list_get_value (MpireResultList *self,
                             guint            position)
{
  g_return_val_if_fail (MPIRE_IS_RESULT_LIST (self), NULL);

  if (position >= self->entries->len)
    return NULL;
  return g_array_index (self->entries, Entry, position).value;
}
