/* fuzz-shared-ring.c: the reading end of a shared ring, told where
 * bodies are by the other process
 *
 * Two views of one ring, as a pool and a worker have them. Input: a byte
 * for the capacity (64 to 16 KiB, a multiple of 8), then operations,
 * each a byte then its operands:
 *
 *   0 LEN(u16)                the writing end reserves LEN bytes and fills
 *                             them, and sends where they are
 *   1                         the reading end takes the oldest body sent
 *   2 POSITION(u64) LEN(u32)  the reading end takes what a lying writer
 *                             says (POSITION: near a sent one if its top
 *                             bit is set)
 *   3 INDEX(u8)               a body taken is released
 *
 * While the writer is honest, every body it sent must be taken, with its
 * bytes, which must stay as they were until released. Whatever the
 * writer says, what the reader takes lies in the ring.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mpire-shared-ring-private.h"

#include "fuzz-common.h"

#define MAX_CAPACITY ((gsize) 16 * 1024)
#define MAX_HELD 32

static int ring_fd = -1;
static guint8 *ring_memory;
/* Where the bytes taken are summed, so that reading them is not optimised away. */
static volatile guint bytes_sum;

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);

  ring_fd = memfd_create ("fuzz-shared-ring", MFD_CLOEXEC);
  g_assert (ring_fd >= 0);
  g_assert (ftruncate (ring_fd, MPIRE_SHARED_RING_MEMORY_SIZE (MAX_CAPACITY)) == 0);
  ring_memory = mmap (NULL, MPIRE_SHARED_RING_MEMORY_SIZE (MAX_CAPACITY),
                      PROT_READ | PROT_WRITE, MAP_SHARED, ring_fd, 0);
  g_assert (ring_memory != MAP_FAILED);
  return 0;
}

typedef struct
{
  guint64 position;
  gsize   len;
  guint8  seed;
} Sent;

typedef struct
{
  GBytes  *bytes;
  gboolean check;  /* taken while the writer was honest: its bytes are known */
  guint8   seed;
} Held;

static guint8
pattern (guint8 seed,
         gsize  i)
{
  return (guint8) (seed * 31 + i * 7 + (i >> 8));
}

static void
check_bytes (const Held *held)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (held->bytes, &len);

  if (!held->check)
    return;
  for (gsize i = 0; i < len; i++)
    g_assert (data[i] == pattern (held->seed, i));
}

typedef struct
{
  MpireSharedRing *reader;
  gsize            capacity;
  const guint8    *base;     /* the reader's view of the ring's bytes, once known */
  GArray          *held;     /* Held */
} Reading;

/* Whatever it was told, the reader hands out bytes of the ring only. */
static void
hold (Reading  *r,
      guint64   position,
      GBytes   *bytes,
      gboolean  check,
      guint8    seed)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);
  Held held = { bytes, check, seed };
  guint sum = 0;

  if (r->base == NULL)
    r->base = data - position % r->capacity;
  g_assert (len > 0 && data >= r->base && data + len <= r->base + r->capacity);
  for (gsize i = 0; i < len; i++)
    sum += data[i];
  bytes_sum = sum;
  check_bytes (&held);

  if (r->held->len < MAX_HELD)
    g_array_append_val (r->held, held);
  else
    g_bytes_unref (bytes);
}

static void
release (Reading *r,
         guint    index)
{
  Held *held = &g_array_index (r->held, Held, index);

  check_bytes (held);
  g_bytes_unref (held->bytes);
  g_array_remove_index (r->held, index);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size };
  gsize capacity = 8 * (8 + fuzz_take_u8 (&in) * MAX_CAPACITY / 8 / 256);
  MpireSharedRing *writer;
  Reading r = { .capacity = capacity, .held = g_array_new (FALSE, FALSE, sizeof (Held)) };
  GQueue sent = G_QUEUE_INIT;
  gboolean honest = TRUE;
  guint8 next_seed = 1;

  g_assert (capacity % 8 == 0 && capacity <= MAX_CAPACITY);
  memset (ring_memory, 0, MPIRE_SHARED_RING_HEADER_SIZE);
  writer = mpire_shared_ring_map (ring_fd, 0, capacity);
  r.reader = mpire_shared_ring_map (ring_fd, 0, capacity);
  g_assert (writer != NULL && r.reader != NULL);

  while (in.len > 0)
    {
      guint8 op = fuzz_take_u8 (&in) % 4;

      if (op == 0)
        {
          gsize len = fuzz_take_u16 (&in);
          Sent *s = g_new (Sent, 1);
          guint8 *dest = mpire_shared_ring_reserve (writer, len, &s->position);

          if (dest == NULL)
            {
              g_free (s);
              continue;
            }
          s->len = len;
          s->seed = next_seed++;
          for (gsize i = 0; i < len; i++)
            dest[i] = pattern (s->seed, i);
          g_queue_push_tail (&sent, s);
        }
      else if (op == 1)
        {
          g_autofree Sent *s = g_queue_pop_head (&sent);
          g_autoptr(GError) error = NULL;
          GBytes *bytes;

          if (s == NULL)
            continue;
          bytes = mpire_shared_ring_take (r.reader, s->position, s->len, &error);
          g_assert (!honest || bytes != NULL);
          if (bytes != NULL)
            hold (&r, s->position, bytes, honest, s->seed);
        }
      else if (op == 2)
        {
          guint64 position = fuzz_take_u64 (&in);
          gsize len = fuzz_take_u32 (&in);
          Sent *s = g_queue_peek_head (&sent);
          g_autoptr(GError) error = NULL;
          GBytes *bytes;

          if ((position >> 63) != 0 && s != NULL)
            position = s->position + (gint64) (gint16) position;
          bytes = mpire_shared_ring_take (r.reader, position, len, &error);
          g_assert ((bytes == NULL) == (error != NULL));
          honest = FALSE;
          if (bytes != NULL)
            hold (&r, position, bytes, FALSE, 0);
        }
      else if (r.held->len > 0)
        release (&r, fuzz_take_u8 (&in) % r.held->len);
    }

  while (r.held->len > 0)
    release (&r, r.held->len - 1);
  g_array_unref (r.held);
  g_queue_clear_full (&sent, g_free);
  mpire_shared_ring_unref (writer);
  mpire_shared_ring_unref (r.reader);
  return 0;
}
