// The tokenizer a GGUF file carries in its metadata (`tokenizer.ggml.*`, llama.cpp's key names).
// Follows how transformers' `integrations/gguf` reads Gemma: SentencePiece BPE rebuilt from the arrays;
// byte-level BPE vocabularies (Qwen2) are read in GGUFByteLevelTokenizer.swift.

import Foundation
import WeightFiles

/// The tokenizer of a GGUF file, whichever kind its metadata describes.
public enum GGUFTokenizer {
    /// Reads `ggufFile`'s metadata and builds its tokenizer: SentencePiece for `tokenizer.ggml.model` "llama" or "t5",
    /// byte-level BPE for "gpt2".
    public static func load(_ ggufFile: URL) throws -> any Tokenizer {
        let metadata = try open(ggufFile).metadata
        let modelKey = "tokenizer.ggml.model"
        guard let modelName = metadata[modelKey]?.stringValue else {
            throw TokenizerError.malformedFile(path: ggufFile.path, reason: "\(modelKey) is missing or is not a string")
        }
        switch modelName {
        case "gpt2":
            return try GPT2Tokenizer(gguf: metadata)
        case _ where SentencePieceVocabulary.ModelType(ggufTokenizerModel: modelName) != nil:
            return try SentencePieceTokenizer(vocabulary: SentencePieceVocabulary(gguf: metadata))
        default:
            throw TokenizerError.unsupported(
                path: ggufFile.path,
                reason: "\(modelKey) is \"\(modelName)\"; the GGUF vocabularies read are \"llama\" and \"t5\" "
                    + "(SentencePiece) and \"gpt2\" (byte-level BPE)")
        }
    }

    static func open(_ ggufFile: URL) throws -> GGUFFile {
        do {
            return try GGUFFile(path: ggufFile.path)
        } catch {
            throw TokenizerError.malformedFile(path: ggufFile.path, reason: "\(error)")
        }
    }
}

extension SentencePieceVocabulary {
    /// The vocabulary of a GGUF whose `tokenizer.ggml.model` is a SentencePiece kind ("llama": Llama,
    /// Gemma 1–3). Missing or mistyped keys throw, naming the key.
    public init(gguf metadata: GGUFMetadata) throws {
        let file = metadata.file
        func missing(_ key: String, _ what: String) -> TokenizerError {
            .malformedFile(path: file, reason: "\(key) is missing or is not \(what)")
        }
        let modelKey = "tokenizer.ggml.model"
        guard let modelName = metadata[modelKey]?.stringValue else { throw missing(modelKey, "a string") }
        guard let modelType = ModelType(ggufTokenizerModel: modelName) else {
            throw TokenizerError.unsupported(
                path: file, reason: "\(modelKey) is \"\(modelName)\"; only SentencePiece vocabularies (\"llama\", \"t5\") are read from GGUF")
        }
        guard let pieces = metadata["tokenizer.ggml.tokens"]?.stringArray else {
            throw missing("tokenizer.ggml.tokens", "an array of strings")
        }
        guard let scores = metadata["tokenizer.ggml.scores"]?.floatArray else {
            throw missing("tokenizer.ggml.scores", "an array of floats")
        }
        guard let rawTypes = metadata["tokenizer.ggml.token_type"]?.intArray,
              let types = Self.pieceTypes(gguf: rawTypes.map { Int32(clamping: $0) }) else {
            throw missing("tokenizer.ggml.token_type", "an array of token types 1...6")
        }
        // The arrays' lengths are bounded by the file's size; a vocabulary is also bounded by what a model may have.
        guard pieces.count <= TokenizerLimits.vocabularySize else {
            throw TokenizerError.malformedFile(
                path: file, reason: "tokenizer.ggml.tokens holds \(pieces.count) tokens; at most \(TokenizerLimits.vocabularySize) are read")
        }
        for (key, count) in [("tokenizer.ggml.scores", scores.count), ("tokenizer.ggml.token_type", types.count)]
        where count != pieces.count {
            throw TokenizerError.malformedFile(
                path: file, reason: "\(key) holds \(count) values for the \(pieces.count) tokens of tokenizer.ggml.tokens")
        }
        func id(_ name: String) throws -> Int32? {
            let key = "tokenizer.ggml.\(name)"
            guard let value = metadata[key] else { return nil }
            guard let id = value.intValue, let id32 = Int32(exactly: id) else { throw missing(key, "an integer") }
            return id32
        }
        func flag(_ name: String, default value: Bool) throws -> Bool {
            let key = "tokenizer.ggml.\(name)"
            guard let stored = metadata[key] else { return value }
            guard let bool = stored.boolValue else { throw missing(key, "a bool") }
            return bool
        }
        self.init(
            pieces: pieces, scores: scores, types: types,
            unknownID: try id("unknown_token_id"), beginningOfSequenceID: try id("bos_token_id"),
            endOfSequenceID: try id("eos_token_id"), paddingID: try id("padding_token_id"),
            // llama.cpp adds BOS to a SentencePiece vocabulary that does not say otherwise.
            addsBeginningOfSequence: try flag("add_bos_token", default: true),
            addsSpacePrefix: try flag("add_space_prefix", default: true),
            modelType: modelType)
    }
}

extension SentencePieceTokenizer {
    /// The tokenizer stored in a GGUF file's metadata.
    public convenience init(ggufFile: URL) throws {
        try self.init(vocabulary: SentencePieceVocabulary(gguf: GGUFTokenizer.open(ggufFile).metadata))
    }
}
