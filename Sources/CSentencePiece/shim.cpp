// extern "C" shim over libsentencepiece (sentencepiece_processor.h, sentencepiece_trainer.h).
// Every entry point catches C++ exceptions and reports library failures as malloc'd messages.
#include "CSentencePiece.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

// Exported by libsentencepiece (src/common.h) but absent from its installed headers.
namespace sentencepiece {
namespace logging {
int GetMinLogLevel();
void SetMinLogLevel(int v);
}  // namespace logging
}  // namespace sentencepiece

struct CSPProcessor {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

char *copy_message(const std::string &message) {
    char *copy = static_cast<char *>(std::malloc(message.size() + 1));
    if (copy != nullptr) {
        std::memcpy(copy, message.data(), message.size());
        copy[message.size()] = '\0';
    }
    return copy;
}

void set_error(char **error, const std::string &message) {
    if (error != nullptr) *error = copy_message(message);
}

bool valid_id(const CSPProcessor *processor, int32_t id) {
    return id >= 0 && id < processor->processor.GetPieceSize();
}

CSPProcessor *finish_load(CSPProcessor *processor, const sentencepiece::util::Status &status, char **error) {
    if (status.ok()) return processor;
    set_error(error, status.ToString());
    delete processor;
    return nullptr;
}

}  // namespace

extern "C" {

CSPProcessor *csp_load_file(const char *path, char **error) {
    *error = nullptr;
    try {
        auto *processor = new CSPProcessor();
        return finish_load(processor, processor->processor.Load(std::string_view(path)), error);
    } catch (const std::exception &exception) {
        set_error(error, exception.what());
        return nullptr;
    }
}

CSPProcessor *csp_load_bytes(const void *bytes, size_t count, char **error) {
    *error = nullptr;
    try {
        auto *processor = new CSPProcessor();
        std::string_view serialized(static_cast<const char *>(bytes), bytes == nullptr ? 0 : count);
        return finish_load(processor, processor->processor.LoadFromSerializedProto(serialized), error);
    } catch (const std::exception &exception) {
        set_error(error, exception.what());
        return nullptr;
    }
}

void csp_processor_free(CSPProcessor *processor) { delete processor; }

void csp_free(void *memory) { std::free(memory); }

int csp_encode(const CSPProcessor *processor, const char *text, size_t length, int32_t **ids, size_t *count,
               char **error) {
    *ids = nullptr;
    *count = 0;
    *error = nullptr;
    try {
        std::vector<int> pieces;
        std::string_view input(text == nullptr ? "" : text, text == nullptr ? 0 : length);
        auto status = processor->processor.Encode(input, &pieces);
        if (!status.ok()) {
            set_error(error, status.ToString());
            return -1;
        }
        if (!pieces.empty()) {
            *ids = static_cast<int32_t *>(std::malloc(pieces.size() * sizeof(int32_t)));
            if (*ids == nullptr) {
                set_error(error, "out of memory");
                return -1;
            }
            for (size_t i = 0; i < pieces.size(); i++) (*ids)[i] = static_cast<int32_t>(pieces[i]);
        }
        *count = pieces.size();
        return 0;
    } catch (const std::exception &exception) {
        set_error(error, exception.what());
        return -1;
    }
}

int csp_decode(const CSPProcessor *processor, const int32_t *ids, size_t count, char **text, size_t *length,
               char **error) {
    *text = nullptr;
    *length = 0;
    *error = nullptr;
    try {
        std::vector<int> pieces;
        pieces.reserve(count);
        for (size_t i = 0; i < count; i++) {
            if (!valid_id(processor, ids[i])) {
                set_error(error, "id " + std::to_string(ids[i]) + " is outside the vocabulary");
                return -1;
            }
            pieces.push_back(ids[i]);
        }
        std::string decoded;
        auto status = processor->processor.Decode(pieces, &decoded);
        if (!status.ok()) {
            set_error(error, status.ToString());
            return -1;
        }
        *text = copy_message(decoded);
        if (*text == nullptr) {
            set_error(error, "out of memory");
            return -1;
        }
        *length = decoded.size();
        return 0;
    } catch (const std::exception &exception) {
        set_error(error, exception.what());
        return -1;
    }
}

int32_t csp_piece_count(const CSPProcessor *processor) { return processor->processor.GetPieceSize(); }

const char *csp_id_to_piece(const CSPProcessor *processor, int32_t id, size_t *length) {
    if (!valid_id(processor, id)) {
        *length = 0;
        return "";
    }
    const std::string &piece = processor->processor.IdToPiece(id);
    *length = piece.size();
    return piece.c_str();
}

int32_t csp_piece_to_id(const CSPProcessor *processor, const char *piece, size_t length) {
    return processor->processor.PieceToId(std::string_view(piece == nullptr ? "" : piece, piece == nullptr ? 0 : length));
}

int32_t csp_piece_type(const CSPProcessor *processor, int32_t id) {
    if (!valid_id(processor, id)) return 0;
    const auto &p = processor->processor;
    if (p.IsUnknown(id)) return 2;
    if (p.IsControl(id)) return 3;
    if (p.IsUnused(id)) return 5;
    if (p.IsByte(id)) return 6;
    // This library version does not tell normal pieces from user-defined ones.
    return 1;
}

float csp_piece_score(const CSPProcessor *processor, int32_t id) {
    if (!valid_id(processor, id)) return 0;
    return processor->processor.GetScore(id);
}

int32_t csp_unk_id(const CSPProcessor *processor) { return processor->processor.unk_id(); }
int32_t csp_bos_id(const CSPProcessor *processor) { return processor->processor.bos_id(); }
int32_t csp_eos_id(const CSPProcessor *processor) { return processor->processor.eos_id(); }
int32_t csp_pad_id(const CSPProcessor *processor) { return processor->processor.pad_id(); }

char *csp_train(const char *arguments, int quiet) {
    // The trainer logs its progress to stderr, starting before it parses --minloglevel.
    const int saved_level = sentencepiece::logging::GetMinLogLevel();
    if (quiet) sentencepiece::logging::SetMinLogLevel(2);
    char *message = nullptr;
    try {
        auto status = sentencepiece::SentencePieceTrainer::Train(std::string_view(arguments));
        if (!status.ok()) message = copy_message(status.ToString());
    } catch (const std::exception &exception) {
        message = copy_message(exception.what());
    }
    sentencepiece::logging::SetMinLogLevel(saved_level);
    return message;
}

}  // extern "C"
