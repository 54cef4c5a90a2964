// Which vocabulary ids a readable prompt may use. Special, control and markup tokens are always excluded; non-ASCII,
// non-word and tokens that do not survive a detokenize → retokenize round trip can be excluded on request.
import Tokenizers

public struct TokenFilter: Codable, Sendable, Equatable {
    public var excludeNonASCII = false
    public var excludeNonWords = false
    public var excludeUnstable = false

    public init(excludeNonASCII: Bool = false, excludeNonWords: Bool = false, excludeUnstable: Bool = false) {
        self.excludeNonASCII = excludeNonASCII; self.excludeNonWords = excludeNonWords; self.excludeUnstable = excludeUnstable
    }

    /// allowed[v] for v in 0..<vocabularySize (the model's, which may exceed the tokenizer's).
    public func allowed(tokenizer: any Tokenizer, vocabularySize: Int) -> [Bool] {
        (0..<vocabularySize).map { v in
            let id = Int32(v)
            guard v < tokenizer.vocabularySize, !Self.isSpecial(id, tokenizer) else { return false }
            guard let text = tokenizer.readableToken(for: id), !Self.isMarkup(text) else { return false }
            if excludeNonASCII && !text.unicodeScalars.allSatisfy(\.isASCII) { return false }
            if excludeNonWords && !Self.isWord(tokenizer.decode([id])) { return false }
            if excludeUnstable && tokenizer.encode(tokenizer.decode([id])) != [id] { return false }
            return true
        }
    }

    /// Special, control, unknown and unused tokens (as the tokenizer marks them): never part of a prompt a person could type.
    public static func isSpecial(_ id: Int32, _ tokenizer: any Tokenizer) -> Bool {
        tokenizer.isControlToken(id)
    }

    /// A tag such as `<start_of_image>` or `<td>`: Gemma's image markers and HTML pieces are ordinary pieces to
    /// SentencePiece (user-defined, which the library does not tell apart), but no prompt a person writes.
    public static func isMarkup(_ text: String) -> Bool {
        let body = text.hasPrefix(" ") ? text.dropFirst() : Substring(text)
        return body.count >= 3 && body.hasPrefix("<") && body.hasSuffix(">") && !body.dropFirst().dropLast().contains { $0 == " " || $0 == "<" }
    }

    /// Letters only, after an optional leading space: a whole word or a word piece a person would read.
    public static func isWord(_ text: String) -> Bool {
        let body = text.hasPrefix(" ") ? text.dropFirst() : Substring(text)
        return !body.isEmpty && body.unicodeScalars.allSatisfy { $0.properties.isAlphabetic }
    }

    /// Starts a new word (leading space) and is all letters: the "whole word" share of readability reports.
    public static func isWholeWord(_ text: String) -> Bool { text.hasPrefix(" ") && isWord(text) }
}
