// The Tokenizer protocol: text ⇄ token ids, the vocabulary, special tokens, and readable tokens.
// Conventions follow Hugging Face tokenizers (`encode(..., add_special_tokens=)`, lossy decode).

/// A tokenizer turns text into token ids and back.
///
/// Implementations are immutable after loading except for internal caches, and safe to share
/// between threads.
public protocol Tokenizer: AnyObject, Sendable {
    /// Number of ids the tokenizer can produce; every id is in `0..<vocabularySize`.
    var vocabularySize: Int { get }

    /// Ids with a special meaning; `nil` where the tokenizer has none.
    var specialTokens: SpecialTokens { get }

    /// The ids of `text`, without any special token added (no beginning-of-sequence).
    func encode(_ text: String) -> [Int32]

    /// The text of `ids`. Byte sequences that are not valid UTF-8 (ids that split a character)
    /// become U+FFFD replacement characters; ids outside the vocabulary are skipped.
    func decode(_ ids: [Int32]) -> String

    /// The vocabulary entry of `id` as the tokenizer spells it (GPT-2: `Ġgreat`; SentencePiece: `▁great`).
    func token(for id: Int32) -> String?

    /// The id of a vocabulary entry spelled as `token(for:)` returns it.
    func id(for token: String) -> Int32?

    /// `id` as a person should see it in a decoded prompt: the text it stands for, with control
    /// characters escaped (`\n`) and bytes that are not a whole character shown as `<0xE2>`.
    func readableToken(for id: Int32) -> String?

    /// Whether `id` stands for no text a person writes: a special id (`specialTokens`), a control token
    /// (`<|im_start|>`, `<start_of_turn>`), the unknown token, or an unused slot. A readable prompt never holds one.
    func isControlToken(_ id: Int32) -> Bool
}

/// Bounds on what a tokenizer file may ask for.
public enum TokenizerLimits {
    /// Token ids must be below 2^24 = 16,777,216, the largest vocabulary a model may have (Models'
    /// ModelLimits.vocabularySize; Gemma 3's 262,144 is the largest in common use). Tables indexed by id are
    /// sized by the largest id, so one absurd id in a file (10^9) would otherwise allocate tens of gigabytes.
    public static let vocabularySize = 1 << 24
}

/// Ids of the special tokens a tokenizer defines.
public struct SpecialTokens: Sendable, Equatable {
    /// End of text / end of sequence (GPT-2: `<|endoftext|>` 50256).
    public var endOfText: Int32?
    /// Beginning of sequence (Gemma: `<bos>`).
    public var beginningOfSequence: Int32?
    /// Padding.
    public var padding: Int32?
    /// Stands for text the vocabulary cannot represent.
    public var unknown: Int32?
    /// Whether encoding with special tokens puts `beginningOfSequence` first (as Hugging Face's
    /// `add_special_tokens=True` does for Gemma and Llama, and does not for GPT-2).
    public var addsBeginningOfSequence: Bool

    public init(
        endOfText: Int32? = nil, beginningOfSequence: Int32? = nil, padding: Int32? = nil,
        unknown: Int32? = nil, addsBeginningOfSequence: Bool = false
    ) {
        self.endOfText = endOfText
        self.beginningOfSequence = beginningOfSequence
        self.padding = padding
        self.unknown = unknown
        self.addsBeginningOfSequence = addsBeginningOfSequence
    }

    /// Whether `id` is one of these ids.
    public func contains(_ id: Int32) -> Bool {
        id == endOfText || id == beginningOfSequence || id == padding || id == unknown
    }
}

extension Tokenizer {
    /// The special ids only, for a tokenizer that marks nothing else.
    public func isControlToken(_ id: Int32) -> Bool { specialTokens.contains(id) }

    /// The ids of `text`; with `addSpecial`, preceded by the beginning-of-sequence id where the
    /// tokenizer adds one (`specialTokens.addsBeginningOfSequence`).
    public func encode(_ text: String, addSpecial: Bool) -> [Int32] {
        let ids = encode(text)
        guard addSpecial, specialTokens.addsBeginningOfSequence,
              let bos = specialTokens.beginningOfSequence else { return ids }
        return [bos] + ids
    }

    /// Readable renderings of `ids`, one per id (`"<invalid id N>"` for an id outside the vocabulary).
    public func readableTokens(for ids: [Int32]) -> [String] {
        ids.map { readableToken(for: $0) ?? "<invalid id \($0)>" }
    }
}
