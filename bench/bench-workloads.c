/* bench-workloads.c: the benchmark's tasks (tiny, CPU-bound, numerical,
 * stateful, expensive init), their inputs and the checks of their results
 *
 * SPDX-License-Identifier: MIT
 */

#include <math.h>
#include <string.h>

#include "bench-workloads.h"

/* The CPU-bound task: CPU_STEPS_C steps of a 64-bit LCG started from the
 * task's index (about 5 ms here). workloads.py has the same algorithm
 * with fewer steps for the same time in Python. */
#define LCG_A       G_GUINT64_CONSTANT (6364136223846793005)
#define LCG_C       G_GUINT64_CONSTANT (1442695040888963407)
#define CPU_STEPS_C 4500000

/* ---- the work ---------------------------------------------------------- */

guint64
lcg_run (guint64 x,
         gint64  steps)
{
  for (gint64 k = 0; k < steps; k++)
    x = x * LCG_A + LCG_C;
  return x;
}

/* x after @steps steps of the LCG, jumped ahead by repeated squaring:
 * checks a CPU task's result in O(log steps). */
guint64
lcg_skip (guint64 x,
          gint64  steps)
{
  guint64 acc_mult = 1, acc_plus = 0, cur_mult = LCG_A, cur_plus = LCG_C;

  while (steps > 0)
    {
      if (steps & 1)
        {
          acc_mult *= cur_mult;
          acc_plus = acc_plus * cur_mult + cur_plus;
        }
      cur_plus = (cur_mult + 1) * cur_plus;
      cur_mult *= cur_mult;
      steps >>= 1;
    }
  return acc_mult * x + acc_plus;
}

gint64
cpu_work (gint64 i)
{
  return (gint64) (lcg_run ((guint64) i, CPU_STEPS_C) >> 1);
}

gint64
cpu_expected (gint64 i)
{
  return (gint64) (lcg_skip ((guint64) i, CPU_STEPS_C) >> 1);
}

GVariant *
square_func (MpireWorkerContext  *context,
             GVariant            *args,
             gpointer             user_data,
             GError             **error)
{
  gint64 x = g_variant_get_int64 (args);

  return g_variant_new_int64 (x * x);
}

/* The chunk-level form of square_func (array-chunks): a whole `ax`
 * chunk squared in one call. */
GVariant *
square_chunk_func (MpireWorkerContext  *context,
                   GVariant            *args,
                   gpointer             user_data,
                   GError             **error)
{
  gsize n;
  const gint64 *in = g_variant_get_fixed_array (args, &n, sizeof (gint64));
  gint64 *out = g_new (gint64, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = in[i] * in[i];
  return g_variant_new_from_data (G_VARIANT_TYPE ("ax"), out, n * sizeof (gint64), TRUE,
                                  g_free, out);
}

GVariant *
cpu_func (MpireWorkerContext  *context,
          GVariant            *args,
          gpointer             user_data,
          GError             **error)
{
  return g_variant_new_int64 (cpu_work (g_variant_get_int64 (args)));
}

/* ---- inputs and checks ------------------------------------------------- */

/* An array of @type over @values (@n 8-byte elements), which it takes
 * without a copy (the memory workload counts every copy). Not floating. */
GVariant *
array_take (const char *type,
            gpointer    values,
            gint64      n)
{
  return g_variant_ref_sink (g_variant_new_from_data (G_VARIANT_TYPE (type), values,
                                                      n * sizeof (gint64), TRUE,
                                                      g_free, values));
}

/* The `ax` [0, 1, ..., n-1], not floating. */
GVariant *
make_range (gint64 n)
{
  gint64 *values = g_new (gint64, MAX (n, 1));

  for (gint64 i = 0; i < n; i++)
    values[i] = i;
  return array_take ("ax", values, n);
}

/* The first @rows rows of @rows_width elements of @array (an `ax` or an
 * `ad`), sharing its memory. */
GVariant *
array_head (GVariant *array,
            gint64    rows,
            gint64    row_width)
{
  return g_variant_ref_sink (g_variant_new_from_data (g_variant_get_type (array),
                                                      g_variant_get_data (array),
                                                      rows * row_width * sizeof (gint64), TRUE,
                                                      (GDestroyNotify) g_variant_unref,
                                                      g_variant_ref (array)));
}


/* The @n 8-byte elements of @result, an array of @type ("ax" or "ad"),
 * or NULL with @error set. */
gconstpointer
get_array (GVariant    *result,
           const char  *type,
           gint64       n,
           GError     **error)
{
  gsize len = 0;
  gconstpointer values;

  if (result == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no result");
      return NULL;
    }
  if (!g_variant_is_of_type (result, G_VARIANT_TYPE (type)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "result is a '%s', not '%s'",
                   g_variant_get_type_string (result), type);
      return NULL;
    }
  values = g_variant_get_fixed_array (result, &len, sizeof (gint64));
  if ((gint64) len != n)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "%" G_GSIZE_FORMAT " results for %" G_GINT64_FORMAT " tasks", len, n);
      return NULL;
    }
  return values != NULL ? values : (gconstpointer) "";
}

/* Whether result i of the @n is @expected (i). */
gboolean
check_results (GVariant   *result,
               gint64      n,
               gint64    (*expected) (gint64 i),
               GError    **error)
{
  const gint64 *values = get_array (result, "ax", n, error);

  if (values == NULL)
    return FALSE;
  for (gint64 i = 0; i < n; i++)
    if (values[i] != expected (i))
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                     "result %" G_GINT64_FORMAT " is %" G_GINT64_FORMAT, i, values[i]);
        return FALSE;
      }
  return TRUE;
}

gint64
square_of (gint64 i)
{
  return i * i;
}

gboolean
check_squares (GVariant  *result,
               gint64     n,
               GError   **error)
{
  return check_results (result, n, square_of, error);
}

gboolean
check_cpu (GVariant  *result,
           gint64     n,
           GError   **error)
{
  return check_results (result, n, cpu_expected, error);
}

/* ---- numerical: rows of 3 doubles, one norm per row ---------------------- */


/* Point @i of the numerical input; workloads.py has the same. */
void
point (gint64  i,
       double *p)
{
  p[0] = (i % 1000) * 0.25;
  p[1] = (i % 777) * -0.5;
  p[2] = (i % 91) + 0.125;
}

/* The `ad` of @n points, flat: 3 doubles per point. */
GVariant *
make_points (gint64 n)
{
  double *values = g_new (double, MAX (POINT_DIM * n, 1));

  for (gint64 i = 0; i < n; i++)
    point (i, values + POINT_DIM * i);
  return array_take ("ad", values, POINT_DIM * n);
}

/* The task, on a whole chunk (array-chunks): the `ad` of the norms of
 * the chunk's points. Also the sequential loop, on the whole input. */
GVariant *
norms_func (MpireWorkerContext  *context,
            GVariant            *args,
            gpointer             user_data,
            GError             **error)
{
  gsize len = 0;
  const double *p = g_variant_get_fixed_array (args, &len, sizeof (double));
  gsize rows = len / POINT_DIM;
  double *out;

  if (len % POINT_DIM != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%" G_GSIZE_FORMAT " numbers are not rows of %d", len, POINT_DIM);
      return NULL;
    }
  out = g_new (double, MAX (rows, 1));
  for (gsize r = 0; r < rows; r++, p += POINT_DIM)
    out[r] = sqrt (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
  return g_variant_new_from_data (G_VARIANT_TYPE ("ad"), out, rows * sizeof (double), TRUE,
                                  g_free, out);
}

gboolean
check_norms (GVariant  *result,
             gint64     n,
             GError   **error)
{
  const double *values = get_array (result, "ad", n, error);

  if (values == NULL)
    return FALSE;
  for (gint64 i = 0; i < n; i++)
    {
      double p[POINT_DIM];

      point (i, p);
      if (values[i] != sqrt (p[0] * p[0] + p[1] * p[1] + p[2] * p[2]))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "norm %" G_GINT64_FORMAT " is %g",
                       i, values[i]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- stateful: a 10 MB lookup table in each worker's state --------------- */

/* workloads.py has the same table, lookups and constants. */
#define TABLE_LEN     1250000        /* int64: 10 MB */
#define TABLE_LOOKUPS 4
#define HASH_MULT     G_GUINT64_CONSTANT (2654435761)
#define HASH_STEP     G_GUINT64_CONSTANT (40503)

/* Entry k: an arithmetic progression, which Python builds fast too. */
gint64
table_value (gint64 k)
{
  return 3 * k + 7;
}

/* The sum of the TABLE_LOOKUPS entries task @x reads. */
gint64
table_lookups (const gint64 *table,
               gint64        x)
{
  guint64 sum = 0;

  for (guint64 j = 0; j < TABLE_LOOKUPS; j++)
    {
      gint64 k = (gint64) (((guint64) x * HASH_MULT + j * HASH_STEP) % TABLE_LEN);

      sum += (guint64) (table != NULL ? table[k] : table_value (k));
    }
  return (gint64) (sum >> 1);
}

GVariant *
make_table (void)
{
  gint64 *table = g_new (gint64, TABLE_LEN);

  for (gint64 k = 0; k < TABLE_LEN; k++)
    table[k] = table_value (k);
  return array_take ("ax", table, TABLE_LEN);
}

/* worker_init: builds the table, once per worker, into its state. */
GVariant *
table_init_func (MpireWorkerContext  *context,
                 GVariant            *args,
                 gpointer             user_data,
                 GError             **error)
{
  g_autoptr(GVariant) table = make_table ();

  mpire_worker_context_set_state (context, table);
  return g_variant_new ("()");
}

/* The worker state that worker_init set, or an error. */
GVariant *
get_state (MpireWorkerContext  *context,
           const char          *type,
           GError             **error)
{
  GVariant *state = mpire_worker_context_get_state (context);

  if (state == NULL || !g_variant_is_of_type (state, G_VARIANT_TYPE (type)))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the worker state is not the '%s' that worker_init sets", type);
      return NULL;
    }
  return state;
}

GVariant *
stateful_func (MpireWorkerContext  *context,
               GVariant            *args,
               gpointer             user_data,
               GError             **error)
{
  GVariant *state = get_state (context, "ax", error);
  gsize len = 0;
  const gint64 *table;

  if (state == NULL)
    return NULL;
  table = g_variant_get_fixed_array (state, &len, sizeof (gint64));
  if (len != TABLE_LEN)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "the table in the worker state has %" G_GSIZE_FORMAT " entries", len);
      return NULL;
    }
  return g_variant_new_int64 (table_lookups (table, g_variant_get_int64 (args)));
}

gint64
stateful_expected (gint64 x)
{
  return table_lookups (NULL, x);
}

gboolean
check_stateful (GVariant  *result,
                gint64     n,
                GError   **error)
{
  return check_results (result, n, stateful_expected, error);
}

/* The sequential loop: the table built once, then the same lookups. */
GVariant *
seq_stateful (GVariant  *input,
              GError   **error)
{
  g_autoptr(GVariant) table_v = make_table ();
  gsize table_len = 0, n = 0;
  const gint64 *table = g_variant_get_fixed_array (table_v, &table_len, sizeof (gint64));
  const gint64 *in = g_variant_get_fixed_array (input, &n, sizeof (gint64));
  gint64 *out = g_new (gint64, MAX (n, 1));

  for (gsize i = 0; i < n; i++)
    out[i] = table_lookups (table, in[i]);
  return array_take ("ax", out, n);
}

/* ---- expensive init: a worker_init of 100 ms, then short tasks ----------- */

/* workloads.py has the same constants (fewer steps for Python). */
#define SLOW_INIT_US   100000
#define INIT_OFFSET    7
#define SHORT_STEPS_C  45000         /* about 50 µs */

/* worker_init: 100 ms of waiting (a connection, a model loading), then
 * the offset the tasks add, in the worker state. */
GVariant *
slow_init_func (MpireWorkerContext  *context,
                GVariant            *args,
                gpointer             user_data,
                GError             **error)
{
  g_usleep (SLOW_INIT_US);
  mpire_worker_context_set_state (context, g_variant_new_int64 (INIT_OFFSET));
  return g_variant_new ("()");
}

gint64
short_work (gint64 x,
            gint64 offset)
{
  return (gint64) (lcg_run ((guint64) x, SHORT_STEPS_C) >> 1) + offset;
}

GVariant *
short_func (MpireWorkerContext  *context,
            GVariant            *args,
            gpointer             user_data,
            GError             **error)
{
  GVariant *state = get_state (context, "x", error);

  if (state == NULL)
    return NULL;
  return g_variant_new_int64 (short_work (g_variant_get_int64 (args),
                                          g_variant_get_int64 (state)));
}

gint64
short_expected (gint64 x)
{
  return (gint64) (lcg_skip ((guint64) x, SHORT_STEPS_C) >> 1) + INIT_OFFSET;
}

gboolean
check_short (GVariant  *result,
             gint64     n,
             GError   **error)
{
  return check_results (result, n, short_expected, error);
}

/* The sequential loop: the initialisation once, then the tasks. */
GVariant *
seq_short (GVariant  *input,
           GError   **error)
{
  gsize n = 0;
  const gint64 *in = g_variant_get_fixed_array (input, &n, sizeof (gint64));
  gint64 *out = g_new (gint64, MAX (n, 1));

  g_usleep (SLOW_INIT_US);
  for (gsize i = 0; i < n; i++)
    out[i] = short_work (in[i], INIT_OFFSET);
  return array_take ("ax", out, n);
}
