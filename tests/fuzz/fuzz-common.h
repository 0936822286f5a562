/* fuzz-common.h: what the libFuzzer targets of tests/fuzz share
 *
 * SPDX-License-Identifier: MIT
 */

#pragma once

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mpire-protocol-private.h"

G_BEGIN_DECLS

/* libFuzzer's entry points, which each target defines. */
int LLVMFuzzerInitialize   (int            *argc,
                            char         ***argv);
int LLVMFuzzerTestOneInput (const uint8_t  *data,
                            size_t          size);

/* Once per process, from LLVMFuzzerInitialize(): GLib allocates with
 * malloc (GSlice would hide use-after-free from ASan; the process
 * re-executes itself with G_SLICE=always-malloc if needed, as GSlice
 * reads it once), and warnings and criticals abort, as they are bugs. */
void fuzz_init (int    *argc,
                char ***argv);

/* Whether the environment has FUZZ_AVOID_KNOWN=1: the targets then steer
 * clear of the crashes of issue 14 that are known and not fixed yet
 * (tests/fuzz/crashes/), to find others behind them: results in normal
 * form before a result buffer or a concatenation gets them, no slice of
 * an empty array, insights figures below 2^40. */
gboolean fuzz_avoid_known (void);

/* A cursor over the fuzzer's input. Reads past its end give zeros. */
typedef struct
{
  const guint8 *data;
  gsize         len;
} FuzzInput;

guint8              fuzz_take_u8      (FuzzInput *in);
guint16             fuzz_take_u16     (FuzzInput *in);
guint32             fuzz_take_u32     (FuzzInput *in);
guint64             fuzz_take_u64     (FuzzInput *in);
/* Up to @len bytes, as a copy of their own (so that ASan sees their end). */
GBytes             *fuzz_take_bytes   (FuzzInput *in,
                                       gsize      len);
/* A definite type: one of a few usual ones, or a type string of the
 * input. Free it with g_variant_type_free(). */
GVariantType       *fuzz_take_type    (FuzzInput *in);

/* A value of @type read from untrusted @bytes, as a body from another
 * process is; floating. */
GVariant *fuzz_variant_from_bytes (const GVariantType *type,
                                   GBytes             *bytes);

/* Reads all of @value, as a receiver may: its normal form, its text,
 * its children. */
void fuzz_touch_variant (GVariant *value);

/* Parses @body as a message of @kind with its parser and reads what it
 * gives. Returns whether it parsed. */
gboolean fuzz_consume_message (MpireMessageKind  kind,
                               GVariant         *body);

/* A fuzzer input of frames: a 16-bit length (little endian), that many
 * bytes for the shared ring, then the byte stream of frames. */
typedef struct
{
  const guint8 *ring;
  gsize         ring_len;
  const guint8 *stream;
  gsize         stream_len;
} FuzzFrames;

void fuzz_split_frames (const guint8 *data,
                        gsize         size,
                        FuzzFrames   *frames);

G_END_DECLS
