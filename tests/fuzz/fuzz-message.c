/* fuzz-message.c: the parsers of every message kind
 *
 * Input: one byte choosing the kind, then the body as it would come in
 * a frame. The body is decoded as mpire_frame_read() and the pool's link
 * decode it (untrusted), parsed with the kind's parser and read; then
 * encoded again as a frame (as a worker forwarding a value it got would)
 * and that frame's body parsed in turn.
 *
 * SPDX-License-Identifier: MIT
 */

#include "config.h"

#include "fuzz-common.h"

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  fuzz_init (argc, argv);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  FuzzInput in = { data, size };
  MpireMessageKind kind = 1 + fuzz_take_u8 (&in) % (MPIRE_MESSAGE_LAST - 1);
  g_autoptr(GBytes) bytes = fuzz_take_bytes (&in, in.len);
  g_autoptr(GVariant) body = mpire_frame_decode_body (kind, bytes);
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GVariant) again = NULL;
  gsize frame_len;
  const guint8 *frame_data;
  MpireMessageKind frame_kind;
  gsize body_len;
  gboolean shared;

  fuzz_consume_message (kind, body);

  /* What was received, sent on. */
  frame = mpire_frame_encode (kind, body, NULL, NULL);
  g_assert (frame != NULL);
  frame_data = g_bytes_get_data (frame, &frame_len);
  g_assert (mpire_frame_parse_header (frame_data, &frame_kind, &body_len, &shared, NULL));
  g_assert (frame_kind == kind && !shared &&
            body_len + MPIRE_FRAME_HEADER_SIZE == frame_len);
  {
    g_autoptr(GBytes) sent = g_bytes_new_from_bytes (frame, MPIRE_FRAME_HEADER_SIZE, body_len);

    again = mpire_frame_decode_body (kind, sent);
    fuzz_consume_message (kind, again);
  }
  return 0;
}
