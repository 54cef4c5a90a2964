// SentencePiece models (Gemma, Llama, T5) through libsentencepiece and the CSentencePiece shim.
// Encoding, decoding and special ids are the library's; this type adds the Tokenizer protocol.

import CSentencePiece
import Foundation

/// A SentencePiece model loaded by libsentencepiece.
public final class SentencePieceTokenizer: Tokenizer, @unchecked Sendable {
    // libsentencepiece's processor is safe for concurrent const calls (encode, decode, lookups).
    private let processor: OpaquePointer
    public let vocabularySize: Int
    public let specialTokens: SpecialTokens
    /// For a model built from vocabulary arrays: the pieces the arrays mark control, unknown or unused. (The library
    /// is handed control pieces as user-defined ones so that they match in text, so it cannot tell.)
    private let controlPieces: [Bool]?

    /// Loads a `tokenizer.model` file. Hugging Face's SentencePiece tokenizers (Llama, Gemma) put
    /// the beginning-of-sequence id first when encoding with special tokens, hence the default.
    public convenience init(modelFile: URL, addsBeginningOfSequence: Bool = true) throws {
        var error: UnsafeMutablePointer<CChar>?
        let processor = modelFile.path.withCString { csp_load_file($0, &error) }
        guard let processor else {
            throw TokenizerError.sentencePiece(
                operation: "load \(modelFile.path)", message: Self.take(error) ?? "unknown error")
        }
        self.init(processor: processor, addsBeginningOfSequence: addsBeginningOfSequence, explicit: nil, controlPieces: nil)
    }

    /// Loads a model from the bytes of a serialized `ModelProto` (the content of a `tokenizer.model`).
    public convenience init(serializedModel: [UInt8], addsBeginningOfSequence: Bool = true) throws {
        var error: UnsafeMutablePointer<CChar>?
        let processor = serializedModel.withUnsafeBytes { csp_load_bytes($0.baseAddress, $0.count, &error) }
        guard let processor else {
            throw TokenizerError.sentencePiece(operation: "load the model bytes", message: Self.take(error) ?? "unknown error")
        }
        self.init(processor: processor, addsBeginningOfSequence: addsBeginningOfSequence, explicit: nil, controlPieces: nil)
    }

    /// Builds a model from vocabulary arrays, as a GGUF file carries them (Gemma 3: `tokenizer.ggml.tokens`,
    /// `.scores`, `.token_type`, `.bos_token_id`, …). The special ids are the ones given, not the library's guess.
    public convenience init(vocabulary: SentencePieceVocabulary) throws {
        let bytes = try vocabulary.serializedModelProto()
        var error: UnsafeMutablePointer<CChar>?
        let processor = bytes.withUnsafeBytes { csp_load_bytes($0.baseAddress, $0.count, &error) }
        guard let processor else {
            throw TokenizerError.sentencePiece(
                operation: "build a model from the vocabulary", message: Self.take(error) ?? "unknown error")
        }
        let special = SpecialTokens(
            endOfText: vocabulary.endOfSequenceID, beginningOfSequence: vocabulary.beginningOfSequenceID,
            padding: vocabulary.paddingID, unknown: vocabulary.unknownID,
            addsBeginningOfSequence: vocabulary.addsBeginningOfSequence)
        let control = vocabulary.types.map { $0 == .control || $0 == .unknown || $0 == .unused }
        self.init(
            processor: processor, addsBeginningOfSequence: vocabulary.addsBeginningOfSequence, explicit: special,
            controlPieces: control)
    }

    private init(processor: OpaquePointer, addsBeginningOfSequence: Bool, explicit: SpecialTokens?, controlPieces: [Bool]?) {
        self.processor = processor
        self.controlPieces = controlPieces
        vocabularySize = Int(csp_piece_count(processor))
        func id(_ value: Int32) -> Int32? { value >= 0 ? value : nil }
        specialTokens = explicit ?? SpecialTokens(
            endOfText: id(csp_eos_id(processor)), beginningOfSequence: id(csp_bos_id(processor)),
            padding: id(csp_pad_id(processor)), unknown: id(csp_unk_id(processor)),
            addsBeginningOfSequence: addsBeginningOfSequence && csp_bos_id(processor) >= 0)
    }

    deinit { csp_processor_free(processor) }

    /// The message the shim allocated, freed.
    static func take(_ message: UnsafeMutablePointer<CChar>?) -> String? {
        guard let message else { return nil }
        defer { csp_free(message) }
        return String(cString: message)
    }

    // MARK: Tokenizer

    public func encode(_ text: String) -> [Int32] {
        var text = text
        return text.withUTF8 { utf8 in
            var ids: UnsafeMutablePointer<Int32>?
            var count = 0
            var error: UnsafeMutablePointer<CChar>?
            let status = utf8.withMemoryRebound(to: CChar.self) {
                csp_encode(processor, $0.baseAddress, $0.count, &ids, &count, &error)
            }
            // Encoding a loaded model cannot fail short of running out of memory; nothing to report.
            _ = Self.take(error)
            defer { csp_free(ids) }
            guard status == 0, let ids else { return [] }
            return Array(UnsafeBufferPointer(start: ids, count: count))
        }
    }

    public func decode(_ ids: [Int32]) -> String {
        let valid = ids.filter { $0 >= 0 && Int($0) < vocabularySize }
        var text: UnsafeMutablePointer<CChar>?
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        let status = valid.withUnsafeBufferPointer {
            csp_decode(processor, $0.baseAddress, $0.count, &text, &length, &error)
        }
        _ = Self.take(error)
        defer { csp_free(text) }
        guard status == 0, let text else { return "" }
        return text.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    public func token(for id: Int32) -> String? {
        guard id >= 0, Int(id) < vocabularySize else { return nil }
        var length = 0
        let piece = csp_id_to_piece(processor, id, &length)
        return piece.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    public func id(for token: String) -> Int32? {
        var token = token
        let id = token.withUTF8 { utf8 in
            utf8.withMemoryRebound(to: CChar.self) { csp_piece_to_id(processor, $0.baseAddress, $0.count) }
        }
        // The library answers the unknown id for a piece it does not have.
        if id < 0 || (id == specialTokens.unknown && self.token(for: id) != token) { return nil }
        return id
    }

    /// The piece type (1 normal or user-defined, 2 unknown, 3 control, 5 unused, 6 byte).
    public func pieceType(for id: Int32) -> Int32 { csp_piece_type(processor, id) }

    public func score(for id: Int32) -> Float { csp_piece_score(processor, id) }

    /// Special ids and pieces of type unknown (2), control (3) or unused (5), as the vocabulary arrays gave them.
    public func isControlToken(_ id: Int32) -> Bool {
        guard !specialTokens.contains(id) else { return true }
        guard id >= 0, Int(id) < vocabularySize else { return false }
        if let controlPieces { return Int(id) < controlPieces.count && controlPieces[Int(id)] }
        return [2, 3, 5].contains(pieceType(for: id))
    }

    public func readableToken(for id: Int32) -> String? {
        guard let piece = token(for: id) else { return nil }
        switch pieceType(for: id) {
        case 2, 3:
            return piece
        case 6:
            // `<0x41>`: an ASCII byte is a whole character; any other is a fragment and stays in hex.
            if let byte = UInt8(piece.dropFirst(3).dropLast(), radix: 16), byte < 0x80 {
                var text = ""
                ReadableToken.appendEscaped(Unicode.Scalar(byte), to: &text)
                return text
            }
            return piece
        default:
            var text = ""
            for scalar in piece.unicodeScalars {
                ReadableToken.appendEscaped(scalar == "\u{2581}" ? " " : scalar, to: &text)
            }
            return text
        }
    }
}
