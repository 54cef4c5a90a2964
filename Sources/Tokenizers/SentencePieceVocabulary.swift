// A SentencePiece vocabulary given as arrays (as GGUF stores it), and its serialization as a ModelProto.
// Field numbers from google/sentencepiece `src/sentencepiece_model.proto`; wire format from protobuf's encoding guide.

/// The arrays that define a SentencePiece model: what GGUF files carry under `tokenizer.ggml.*`.
public struct SentencePieceVocabulary: Sendable, Equatable {
    /// Piece types, numbered as in sentencepiece_model.proto and GGUF's `tokenizer.ggml.token_type`.
    public enum PieceType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The segmentation algorithm (`TrainerSpec.ModelType`).
    public enum ModelType: Int32, Sendable {
        case unigram = 1, bpe = 2, word = 3, character = 4

        /// The model type GGUF's `tokenizer.ggml.model` names: llama.cpp's "llama" vocabulary (Llama,
        /// and Gemma 1–3, whose tokenizer.model is BPE with byte fallback) merges pieces by score, which
        /// is SentencePiece BPE; "t5" is unigram.
        public init?(ggufTokenizerModel name: String) {
            switch name {
            case "llama": self = .bpe
            case "t5": self = .unigram
            default: return nil
            }
        }
    }

    public var pieces: [String]
    public var scores: [Float]
    public var types: [PieceType]
    public var unknownID: Int32?
    public var beginningOfSequenceID: Int32?
    public var endOfSequenceID: Int32?
    public var paddingID: Int32?
    /// Whether encoding with special tokens starts with the beginning-of-sequence id (GGUF `tokenizer.ggml.add_bos_token`).
    public var addsBeginningOfSequence: Bool
    /// Whether a space is put before the text (SentencePiece `add_dummy_prefix`; GGUF `tokenizer.ggml.add_space_prefix`).
    public var addsSpacePrefix: Bool
    public var modelType: ModelType
    /// Whether control pieces (`<bos>`, `<start_of_turn>`) written in the text encode as their single
    /// id, as Hugging Face's tokenizers built from GGUF do by default. SentencePiece itself never
    /// matches control pieces in text, so they are handed to it as user-defined pieces; they then
    /// also decode to their text (`<start_of_turn>`), again as Hugging Face's `decode` does.
    public var matchesControlPiecesInText: Bool

    public init(
        pieces: [String], scores: [Float], types: [PieceType],
        unknownID: Int32?, beginningOfSequenceID: Int32?, endOfSequenceID: Int32?, paddingID: Int32?,
        addsBeginningOfSequence: Bool, addsSpacePrefix: Bool, modelType: ModelType,
        matchesControlPiecesInText: Bool = true
    ) {
        self.pieces = pieces
        self.scores = scores
        self.types = types
        self.unknownID = unknownID
        self.beginningOfSequenceID = beginningOfSequenceID
        self.endOfSequenceID = endOfSequenceID
        self.paddingID = paddingID
        self.addsBeginningOfSequence = addsBeginningOfSequence
        self.addsSpacePrefix = addsSpacePrefix
        self.modelType = modelType
        self.matchesControlPiecesInText = matchesControlPiecesInText
    }

    /// GGUF's raw type numbers as piece types; nil if one is not 1...6.
    public static func pieceTypes(gguf values: [Int32]) -> [PieceType]? {
        var types: [PieceType] = []
        types.reserveCapacity(values.count)
        for value in values {
            guard let type = PieceType(rawValue: value) else { return nil }
            types.append(type)
        }
        return types
    }

    /// The serialized `sentencepiece.ModelProto`, with an identity normalizer that only escapes spaces as `▁`.
    func serializedModelProto() throws -> [UInt8] {
        guard pieces.count == scores.count, pieces.count == types.count else {
            throw TokenizerError.invalidVocabulary(
                reason: "\(pieces.count) pieces, \(scores.count) scores and \(types.count) types; the counts must agree")
        }
        guard !pieces.isEmpty else { throw TokenizerError.invalidVocabulary(reason: "no pieces") }
        for (name, id) in [("unknown", unknownID), ("beginning-of-sequence", beginningOfSequenceID),
                           ("end-of-sequence", endOfSequenceID), ("padding", paddingID)] {
            if let id, id < 0 || Int(id) >= pieces.count {
                throw TokenizerError.invalidVocabulary(reason: "the \(name) id \(id) is outside 0..<\(pieces.count)")
            }
        }

        // The library needs exactly one piece of type unknown; GGUF files (Gemma 3's) may mark the
        // unknown token as control instead, so the id given wins.
        var types = types
        if matchesControlPiecesInText {
            for index in types.indices where types[index] == .control { types[index] = .userDefined }
        }
        if let unknownID { types[Int(unknownID)] = .unknown }

        var model = ProtobufWriter()
        for index in pieces.indices {
            var piece = ProtobufWriter()
            piece.string(1, Self.escapedSpaces(pieces[index], type: types[index]))
            piece.float(2, scores[index])
            piece.varint(3, UInt64(types[index].rawValue))
            model.message(1, piece)
        }

        var trainer = ProtobufWriter()
        trainer.varint(3, UInt64(modelType.rawValue))
        trainer.varint(4, UInt64(pieces.count))
        trainer.bool(35, types.contains(.byte))  // byte_fallback: byte pieces are only allowed with it
        // The library finds special pieces by name (`*_piece`); the ids are recorded for completeness.
        let specials: [(idField: Int, pieceField: Int, id: Int32?)] = [
            (40, 45, unknownID), (41, 46, beginningOfSequenceID), (42, 47, endOfSequenceID), (43, 48, paddingID),
        ]
        for special in specials {
            trainer.int32(special.idField, special.id ?? -1)
            if let id = special.id { trainer.string(special.pieceField, pieces[Int(id)]) }
        }
        model.message(2, trainer)

        var normalizer = ProtobufWriter()
        normalizer.string(1, "identity")
        normalizer.bool(3, addsSpacePrefix)
        normalizer.bool(4, false)  // remove_extra_whitespaces
        normalizer.bool(5, true)  // escape_whitespaces
        model.message(3, normalizer)
        return model.bytes
    }

    /// SentencePiece matches pieces against text whose spaces are already `▁`; GGUF files store pieces
    /// made only of spaces (Gemma's runs of blanks) with real spaces, which would never match.
    private static func escapedSpaces(_ piece: String, type: PieceType) -> String {
        guard type == .normal || type == .userDefined, !piece.isEmpty,
              piece.unicodeScalars.allSatisfy({ $0 == " " }) else { return piece }
        return String(repeating: "\u{2581}", count: piece.unicodeScalars.count)
    }
}

/// Just enough of protobuf's wire format to write a ModelProto.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    private mutating func rawVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private mutating func tag(_ field: Int, wireType: UInt64) {
        rawVarint(UInt64(field) << 3 | wireType)
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 0)
        rawVarint(value)
    }

    /// int32 fields sign-extend negative values to 64 bits (ten bytes on the wire).
    mutating func int32(_ field: Int, _ value: Int32) {
        varint(field, UInt64(bitPattern: Int64(value)))
    }

    mutating func bool(_ field: Int, _ value: Bool) {
        varint(field, value ? 1 : 0)
    }

    mutating func float(_ field: Int, _ value: Float) {
        tag(field, wireType: 5)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    mutating func lengthDelimited(_ field: Int, _ payload: some Collection<UInt8>) {
        tag(field, wireType: 2)
        rawVarint(UInt64(payload.count))
        bytes.append(contentsOf: payload)
    }

    mutating func string(_ field: Int, _ value: String) {
        lengthDelimited(field, value.utf8)
    }

    mutating func message(_ field: Int, _ message: ProtobufWriter) {
        lengthDelimited(field, message.bytes)
    }
}
