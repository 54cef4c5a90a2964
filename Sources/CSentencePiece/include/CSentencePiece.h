// C interface over libsentencepiece's C++ SentencePieceProcessor and SentencePieceTrainer.
// Errors come back as malloc'd messages in `*error` (free with csp_free); no call aborts on bad input.
#ifndef CSENTENCEPIECE_H
#define CSENTENCEPIECE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A loaded SentencePiece model.
typedef struct CSPProcessor CSPProcessor;

/// Loads a model file (`tokenizer.model`). Returns NULL and sets `*error` on failure.
CSPProcessor *_Nullable csp_load_file(const char *_Nonnull path, char *_Nullable *_Nonnull error);

/// Loads a model from its serialized ModelProto bytes. Returns NULL and sets `*error` on failure.
CSPProcessor *_Nullable csp_load_bytes(const void *_Nullable bytes, size_t count,
                                       char *_Nullable *_Nonnull error);

void csp_processor_free(CSPProcessor *_Nullable processor);

/// Frees memory this library returned (messages, id arrays, decoded text).
void csp_free(void *_Nullable memory);

/// Encodes `length` bytes of UTF-8 text. On success returns 0 and sets `*ids` (malloc'd, may be NULL
/// when `*count` is 0) and `*count`; on failure returns -1 and sets `*error`.
int csp_encode(const CSPProcessor *_Nonnull processor, const char *_Nullable text, size_t length,
               int32_t *_Nullable *_Nonnull ids, size_t *_Nonnull count, char *_Nullable *_Nonnull error);

/// Decodes ids to UTF-8 text. On success returns 0 and sets `*text` (malloc'd, NUL-terminated) and
/// `*length` (bytes, without the NUL); on failure returns -1 and sets `*error`.
/// Every id must be in 0..<csp_piece_count.
int csp_decode(const CSPProcessor *_Nonnull processor, const int32_t *_Nullable ids, size_t count,
               char *_Nullable *_Nonnull text, size_t *_Nonnull length, char *_Nullable *_Nonnull error);

/// Number of pieces (the vocabulary size).
int32_t csp_piece_count(const CSPProcessor *_Nonnull processor);

/// The piece of `id` (0 <= id < csp_piece_count), owned by the processor; `*length` is its byte count.
const char *_Nonnull csp_id_to_piece(const CSPProcessor *_Nonnull processor, int32_t id,
                                     size_t *_Nonnull length);

/// The id of a piece, or the unknown id when there is no such piece.
int32_t csp_piece_to_id(const CSPProcessor *_Nonnull processor, const char *_Nullable piece, size_t length);

/// The piece's type: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
/// (the numbering of sentencepiece_model.proto and of GGUF's tokenizer.ggml.token_type).
int32_t csp_piece_type(const CSPProcessor *_Nonnull processor, int32_t id);

float csp_piece_score(const CSPProcessor *_Nonnull processor, int32_t id);

/// Special ids, or -1 where the model has none.
int32_t csp_unk_id(const CSPProcessor *_Nonnull processor);
int32_t csp_bos_id(const CSPProcessor *_Nonnull processor);
int32_t csp_eos_id(const CSPProcessor *_Nonnull processor);
int32_t csp_pad_id(const CSPProcessor *_Nonnull processor);

/// Trains a model with spm_train's flags, e.g. "--input=a.txt --model_prefix=m --vocab_size=100".
/// With `quiet` nonzero the library's progress log is silenced (errors still come back).
/// Returns NULL on success, or a malloc'd error message. Not safe to call from two threads at once.
char *_Nullable csp_train(const char *_Nonnull arguments, int quiet);

#ifdef __cplusplus
}
#endif

#endif
