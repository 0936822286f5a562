/* mpire-dashboard-maps.c: what a dashboard knows about maps
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>

#include "mpire-dashboard-maps-private.h"
#include "mpire-i18n-private.h"

/* The maps a dashboard shows, one JSON object each, as pools report
 * them: from this process (mpire-dashboard-reporter.c hands the object
 * over) or another (a push, mpire-dashboard.c). A map is known by the key
 * its reporter chose (host, process and a serial number) and shown under
 * a small integer id the store gives it. An update carries some or all
 * of a map's fields and is merged into what is known; every field is
 * checked first, so a bad update changes nothing.
 *
 * The store is shared between the threads that report and the
 * dashboard's own thread, which serves it: one lock guards it all. */

struct _MpireDashboardMaps
{
  GMutex      lock;
  GHashTable *by_key;    /* key -> Entry, owns the entries */
  GPtrArray  *order;     /* Entry, oldest first */
  GPtrArray  *changed;   /* Entry, updated since the last take_changed() */
  gint64      next_id;
  guint64     n_pushes;
};

typedef struct
{
  gint64      id;
  char       *key;
  JsonObject *object;
  gboolean    changed;
} Entry;

typedef enum {
  FIELD_STRING,
  FIELD_STATUS,
  FIELD_COUNT,
  FIELD_NUMBER,   /* >= 0, or null */
  FIELD_ERROR,    /* {domain, code, message}, or null */
  FIELD_OBJECT,   /* any object (insights), or null */
  FIELD_WORKERS,  /* {started, exited, died} */
} FieldKind;

static const struct {
  const char *name;
  FieldKind   kind;
} fields[] = {
  { "description", FIELD_STRING },
  { "task", FIELD_STRING },
  { "status", FIELD_STATUS },
  { "done", FIELD_COUNT },
  { "total", FIELD_COUNT },
  { "rate", FIELD_NUMBER },
  { "eta", FIELD_NUMBER },
  { "start_time", FIELD_NUMBER },
  { "end_time", FIELD_NUMBER },
  { "error", FIELD_ERROR },
  { "failed_args", FIELD_STRING },
  { "insights", FIELD_OBJECT },
  { "host", FIELD_STRING },
  { "pid", FIELD_COUNT },
  { "n_jobs", FIELD_COUNT },
  { "start_method", FIELD_STRING },
  { "workers", FIELD_WORKERS },
};

static const char * const statuses[] = { "running", "completed", "failed", "cancelled" };

/* JSON nested deeper than this is refused before parsing: json-glib
 * parses recursively, and a megabyte of '[' would use up the stack. */
#define MAX_DEPTH 32

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_free (entry->key);
  json_object_unref (entry->object);
  g_free (entry);
}

MpireDashboardMaps *
mpire_dashboard_maps_new (void)
{
  MpireDashboardMaps *self = g_new0 (MpireDashboardMaps, 1);

  g_mutex_init (&self->lock);
  self->by_key = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  self->order = g_ptr_array_new ();
  self->changed = g_ptr_array_new ();
  self->next_id = 1;
  return self;
}

void
mpire_dashboard_maps_free (MpireDashboardMaps *self)
{
  g_ptr_array_unref (self->changed);
  g_ptr_array_unref (self->order);
  g_hash_table_unref (self->by_key);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static gboolean
is_null (JsonNode *node)
{
  return JSON_NODE_HOLDS_NULL (node);
}

static gboolean
is_number (JsonNode *node)
{
  GType type;

  if (!JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
is_count (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64 &&
         json_node_get_int (node) >= 0;
}

static gboolean
is_string (JsonNode *node)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING;
}

static gboolean
check_error_object (JsonNode *node)
{
  JsonObject *object;
  JsonNode *member;

  if (is_null (node))
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  object = json_node_get_object (node);
  member = json_object_get_member (object, "message");
  if (member == NULL || !is_string (member))
    return FALSE;
  member = json_object_get_member (object, "domain");
  if (member != NULL && !is_string (member))
    return FALSE;
  member = json_object_get_member (object, "code");
  return member == NULL || (JSON_NODE_HOLDS_VALUE (member) &&
                            json_node_get_value_type (member) == G_TYPE_INT64);
}

static gboolean
check_workers (JsonNode *node)
{
  static const char * const counts[] = { "started", "exited", "died" };
  JsonObject *object;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  object = json_node_get_object (node);
  for (gsize i = 0; i < G_N_ELEMENTS (counts); i++)
    {
      JsonNode *member = json_object_get_member (object, counts[i]);

      if (member == NULL || !is_count (member))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_field (FieldKind  kind,
             JsonNode  *node)
{
  switch (kind)
    {
    case FIELD_STRING:
      return is_string (node) || is_null (node);
    case FIELD_STATUS:
      if (!is_string (node))
        return FALSE;
      for (gsize i = 0; i < G_N_ELEMENTS (statuses); i++)
        if (g_str_equal (json_node_get_string (node), statuses[i]))
          return TRUE;
      return FALSE;
    case FIELD_COUNT:
      return is_count (node);
    case FIELD_NUMBER:
      return is_null (node) || (is_number (node) && json_node_get_double (node) >= 0);
    case FIELD_ERROR:
      return check_error_object (node);
    case FIELD_OBJECT:
      return is_null (node) || JSON_NODE_HOLDS_OBJECT (node);
    case FIELD_WORKERS:
      return check_workers (node);
    default:
      g_assert_not_reached ();
    }
}

/* Checks every field of @map; the message names the first bad one. */
static gboolean
check_map (JsonObject  *map,
           GError     **error)
{
  JsonNode *key = json_object_get_member (map, "key");

  if (key == NULL || !is_string (key) || *json_node_get_string (key) == '\0' ||
      strlen (json_node_get_string (key)) > 256)
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           _("A map needs a “key”: a string of 1 to 256 bytes"));
      return FALSE;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      JsonNode *node = json_object_get_member (map, fields[i].name);

      if (node != NULL && !check_field (fields[i].kind, node))
        {
          g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                       _("The map field “%s” has a wrong type or value"), fields[i].name);
          return FALSE;
        }
    }
  return TRUE;
}

/* A copy of a string node, valid UTF-8 and at most MAX_TEXT bytes. */
static JsonNode *
bounded_string (JsonNode *node)
{
  const char *text = json_node_get_string (node);
  g_autofree char *valid = g_utf8_make_valid (text, -1);

  if (strlen (valid) > MPIRE_DASHBOARD_MAX_TEXT)
    {
      const char *end = g_utf8_find_prev_char (valid, valid + MPIRE_DASHBOARD_MAX_TEXT);
      g_autofree char *cut = g_strndup (valid, end - valid);

      return json_node_init_string (json_node_alloc (), cut);
    }
  return json_node_init_string (json_node_alloc (), valid);
}

static JsonNode *
copy_field (FieldKind  kind,
            JsonNode  *node)
{
  if (kind == FIELD_STRING && is_string (node))
    return bounded_string (node);
  if (kind == FIELD_ERROR && !is_null (node))
    {
      JsonObject *object = json_node_get_object (node);
      g_autoptr(JsonObject) copy = json_object_new ();
      JsonNode *member;

      json_object_set_member (copy, "message",
                              bounded_string (json_object_get_member (object, "message")));
      member = json_object_get_member (object, "domain");
      if (member != NULL)
        json_object_set_member (copy, "domain", bounded_string (member));
      member = json_object_get_member (object, "code");
      if (member != NULL)
        json_object_set_int_member (copy, "code", json_node_get_int (member));
      return json_node_init_object (json_node_alloc (), copy);
    }
  return json_node_copy (node);
}

static Entry *
find_by_id (MpireDashboardMaps *self,
            gint64              id)
{
  for (guint i = 0; i < self->order->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->order, i);

      if (entry->id == id)
        return entry;
    }
  return NULL;
}

static gboolean
entry_is_running (Entry *entry)
{
  return g_strcmp0 (json_object_get_string_member_with_default (entry->object, "status",
                                                                "running"),
                    "running") == 0;
}

static void
remove_entry (MpireDashboardMaps *self,
              Entry              *entry)
{
  g_ptr_array_remove (self->order, entry);
  g_ptr_array_remove (self->changed, entry);
  g_hash_table_remove (self->by_key, entry->key);
}

/* Keeps at most MPIRE_DASHBOARD_MAX_MAPS: the oldest finished map goes
 * first, the oldest running one if none has finished. */
static void
evict (MpireDashboardMaps *self)
{
  while (self->order->len > MPIRE_DASHBOARD_MAX_MAPS)
    {
      Entry *victim = g_ptr_array_index (self->order, 0);

      for (guint i = 0; i < self->order->len; i++)
        {
          Entry *entry = g_ptr_array_index (self->order, i);

          if (!entry_is_running (entry))
            {
              victim = entry;
              break;
            }
        }
      remove_entry (self, victim);
    }
}

static void
merge_locked (MpireDashboardMaps *self,
              JsonObject         *map)
{
  const char *key = json_object_get_string_member (map, "key");
  Entry *entry = g_hash_table_lookup (self->by_key, key);

  if (entry == NULL)
    {
      entry = g_new0 (Entry, 1);
      entry->id = self->next_id++;
      entry->key = g_strdup (key);
      entry->object = json_object_new ();
      json_object_set_string_member (entry->object, "status", "running");
      g_hash_table_insert (self->by_key, entry->key, entry);
      g_ptr_array_add (self->order, entry);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      JsonNode *node = json_object_get_member (map, fields[i].name);

      if (node != NULL)
        json_object_set_member (entry->object, fields[i].name, copy_field (fields[i].kind, node));
    }
  json_object_set_double_member (entry->object, "updated",
                                 g_get_real_time () / (double) G_USEC_PER_SEC);

  if (!entry->changed)
    {
      entry->changed = TRUE;
      g_ptr_array_add (self->changed, entry);
    }
  evict (self);
}

/* Merges one map's update (its "key" and any of its fields). */
gboolean
mpire_dashboard_maps_update (MpireDashboardMaps  *self,
                             JsonObject          *map,
                             GError             **error)
{
  if (!check_map (map, error))
    return FALSE;

  g_mutex_lock (&self->lock);
  merge_locked (self, map);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* How deep the arrays and objects of a JSON text nest, without parsing
 * it; stops counting at MAX_DEPTH + 1. */
static int
nesting_depth (const char *body,
               gsize       length)
{
  gboolean in_string = FALSE;
  int depth = 0, deepest = 0;

  for (gsize i = 0; i < length && deepest <= MAX_DEPTH; i++)
    {
      char c = body[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
        }
      else if (c == '"')
        in_string = TRUE;
      else if (c == '[' || c == '{')
        deepest = MAX (deepest, ++depth);
      else if (c == ']' || c == '}')
        depth--;
    }
  return deepest;
}

/* A push: `{"maps": [map, ...]}`. Nothing is merged unless every map is
 * good. */
gboolean
mpire_dashboard_maps_push (MpireDashboardMaps  *self,
                           const char          *body,
                           gsize                length,
                           GError             **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonNode *root, *maps;
  JsonArray *array;

  if (length > MPIRE_DASHBOARD_MAX_BODY || nesting_depth (body, length) > MAX_DEPTH)
    {
      g_set_error (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                   _("A push must be JSON of at most %d bytes, nested at most %d deep"),
                   MPIRE_DASHBOARD_MAX_BODY, MAX_DEPTH);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, body != NULL ? body : "", length, error))
    return FALSE;

  root = json_parser_get_root (parser);
  maps = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
    ? json_object_get_member (json_node_get_object (root), "maps") : NULL;
  if (maps == NULL || !JSON_NODE_HOLDS_ARRAY (maps))
    {
      g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                           _("A push must be a JSON object with an array “maps”"));
      return FALSE;
    }

  array = json_node_get_array (maps);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *map = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_OBJECT (map))
        {
          g_set_error_literal (error, JSON_PARSER_ERROR, JSON_PARSER_ERROR_INVALID_DATA,
                               _("Each element of “maps” must be a JSON object"));
          return FALSE;
        }
      if (!check_map (json_node_get_object (map), error))
        return FALSE;
    }

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < json_array_get_length (array); i++)
    merge_locked (self, json_array_get_object_element (array, i));
  self->n_pushes++;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* A map as the API shows it: its fields, its id and its percentage. */
static JsonNode *
entry_to_json (Entry    *entry,
               gboolean  with_insights)
{
  g_autoptr(JsonObject) object = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  gint64 done, total;

  json_object_set_int_member (object, "id", entry->id);
  json_object_iter_init (&iter, entry->object);
  while (json_object_iter_next (&iter, &name, &node))
    if (with_insights || !g_str_equal (name, "insights"))
      json_object_set_member (object, name, json_node_copy (node));

  if (!with_insights)
    {
      JsonNode *insights = json_object_get_member (entry->object, "insights");

      json_object_set_boolean_member (object, "has_insights",
                                      insights != NULL && !is_null (insights));
    }

  done = json_object_get_int_member_with_default (entry->object, "done", 0);
  total = json_object_get_int_member_with_default (entry->object, "total", 0);
  if (total > 0)
    json_object_set_double_member (object, "percent", MIN (100.0, done * 100.0 / total));
  else
    json_object_set_null_member (object, "percent");

  return json_node_init_object (json_node_alloc (), object);
}

/* `{"maps": [...]}`, oldest first, with or without their insights. */
JsonNode *
mpire_dashboard_maps_list (MpireDashboardMaps *self,
                           gboolean            with_insights)
{
  g_autoptr(JsonArray) array = json_array_new ();
  g_autoptr(JsonObject) object = json_object_new ();

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->order->len; i++)
    json_array_add_element (array, entry_to_json (g_ptr_array_index (self->order, i),
                                                  with_insights));
  g_mutex_unlock (&self->lock);

  json_object_set_array_member (object, "maps", g_steal_pointer (&array));
  return json_node_init_object (json_node_alloc (), object);
}

/* One map, insights included, or %NULL if @id is unknown. */
JsonNode *
mpire_dashboard_maps_get (MpireDashboardMaps *self,
                          gint64              id)
{
  JsonNode *node = NULL;
  Entry *entry;

  g_mutex_lock (&self->lock);
  entry = find_by_id (self, id);
  if (entry != NULL)
    node = entry_to_json (entry, TRUE);
  g_mutex_unlock (&self->lock);
  return node;
}

/* One map's insights (`null` when it has none), or %NULL if @id is
 * unknown. */
JsonNode *
mpire_dashboard_maps_get_insights (MpireDashboardMaps *self,
                                   gint64              id)
{
  JsonNode *node = NULL;
  Entry *entry;

  g_mutex_lock (&self->lock);
  entry = find_by_id (self, id);
  if (entry != NULL)
    {
      JsonNode *insights = json_object_get_member (entry->object, "insights");

      node = insights != NULL ? json_node_copy (insights) : json_node_init_null (json_node_alloc ());
    }
  g_mutex_unlock (&self->lock);
  return node;
}

/* The maps updated since the last call, as JSON nodes with insights,
 * oldest first. */
GPtrArray *
mpire_dashboard_maps_take_changed (MpireDashboardMaps *self)
{
  GPtrArray *nodes = g_ptr_array_new_with_free_func ((GDestroyNotify) json_node_unref);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->changed->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->changed, i);

      entry->changed = FALSE;
      g_ptr_array_add (nodes, entry_to_json (entry, TRUE));
    }
  g_ptr_array_set_size (self->changed, 0);
  g_mutex_unlock (&self->lock);
  return nodes;
}

/* How many pushes were merged: a test's view of the rate limiting. */
guint64
mpire_dashboard_maps_get_n_pushes (MpireDashboardMaps *self)
{
  guint64 n;

  g_mutex_lock (&self->lock);
  n = self->n_pushes;
  g_mutex_unlock (&self->lock);
  return n;
}
