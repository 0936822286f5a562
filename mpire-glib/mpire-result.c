/* mpire-result.c
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "mpire-result-private.h"

/**
 * MpireResult:
 *
 * One result of a call, with the position of its task in the input: the
 * item type of [class@Mpire.ResultList].
 *
 * Since: 0.1
 */
struct _MpireResult
{
  GObject   parent_instance;

  GVariant *value;
  gint64    index;
};

G_DEFINE_FINAL_TYPE (MpireResult, mpire_result, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_VALUE,
  PROP_INDEX,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
mpire_result_finalize (GObject *object)
{
  MpireResult *self = MPIRE_RESULT (object);

  g_clear_pointer (&self->value, g_variant_unref);

  G_OBJECT_CLASS (mpire_result_parent_class)->finalize (object);
}

static void
mpire_result_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  MpireResult *self = MPIRE_RESULT (object);

  switch (prop_id)
    {
    case PROP_VALUE:
      g_value_set_variant (value, self->value);
      break;

    case PROP_INDEX:
      g_value_set_int64 (value, self->index);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
mpire_result_class_init (MpireResultClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = mpire_result_finalize;
  object_class->get_property = mpire_result_get_property;

  /**
   * MpireResult:value: (getter get_value)
   *
   * What the task returned.
   *
   * Since: 0.1
   */
  properties[PROP_VALUE] =
    g_param_spec_variant ("value", NULL, NULL, G_VARIANT_TYPE_ANY, NULL,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  /**
   * MpireResult:index: (getter get_index)
   *
   * The position of the result's task in the input, counted from 0.
   *
   * Since: 0.1
   */
  properties[PROP_INDEX] =
    g_param_spec_int64 ("index", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
mpire_result_init (MpireResult *self)
{
}

MpireResult *
mpire_result_new (GVariant *value,
                  gint64    index)
{
  MpireResult *self = g_object_new (MPIRE_TYPE_RESULT, NULL);

  self->value = g_variant_ref_sink (value);
  self->index = index;
  return self;
}

/**
 * mpire_result_get_value:
 * @self: a result
 *
 * Gets what the task returned.
 *
 * Returns: (transfer none): the task's result
 *
 * Since: 0.1
 */
GVariant *
mpire_result_get_value (MpireResult *self)
{
  g_return_val_if_fail (MPIRE_IS_RESULT (self), NULL);

  return self->value;
}

/**
 * mpire_result_get_index:
 * @self: a result
 *
 * Gets the position of the result's task in the input: for
 * [method@Mpire.WorkerPool.imap_unordered_list], where results come in
 * completion order, it tells which task each one belongs to.
 *
 * Returns: the task's position in the input, from 0
 *
 * Since: 0.1
 */
gint64
mpire_result_get_index (MpireResult *self)
{
  g_return_val_if_fail (MPIRE_IS_RESULT (self), -1);

  return self->index;
}
