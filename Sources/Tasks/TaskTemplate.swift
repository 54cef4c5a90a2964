// Templates such as "{prompt} {sentence} It was" (PEZ) or "{sentence} {prompt}" (RLPrompt): the label word is
// predicted right after the template. Text on each side of the prompt slot is tokenized on its own; a text
// prompt (what a person would type) is substituted into the template and the whole is tokenized at once.
import Tokenizers
import Tuning

public enum TemplateError: Error, CustomStringConvertible, Equatable {
    case missingPlaceholder(String, template: String)
    case emptyVerbalizer(word: String)
    case emptyInput(template: String)

    public var description: String {
        switch self {
        case .missingPlaceholder(let placeholder, let template):
            return "template \"\(template)\" must contain \(placeholder) exactly once"
        case .emptyVerbalizer(let word):
            return "verbalizer \"\(word)\" encodes to no token; each label word needs at least one"
        case .emptyInput(let template):
            return "template \"\(template)\" with an empty sentence and prompt leaves nothing to read"
        }
    }
}

public struct TaskTemplate: Sendable, Equatable {
    public let text: String

    public static let pez = "{prompt} {sentence} It was"
    public static let rlprompt = "{sentence} {prompt}"

    /// The template text for a name ("pez", "rlprompt") or a text given by the user; nil gives the method's own:
    /// RLPrompt's for rlprompt and gcg (their candidates reuse each sentence's cache only when the sentence comes
    /// first), else PEZ's.
    public static func text(_ given: String?, method: TuningMethod) -> String {
        given.map(text(named:)) ?? (method.isDiscrete ? rlprompt : pez)
    }

    /// The template text of a name ("pez", "rlprompt"), or the text itself.
    public static func text(named given: String) -> String {
        switch given {
        case "pez": return pez
        case "rlprompt": return rlprompt
        default: return given
        }
    }

    public init(_ text: String) throws {
        for placeholder in ["{prompt}", "{sentence}"] where text.components(separatedBy: placeholder).count != 2 {
            throw TemplateError.missingPlaceholder(placeholder, template: text)
        }
        self.text = text
    }

    /// Whether text comes before the prompt, so that the prompt, typed, follows a space.
    public var promptFollowsText: Bool {
        !Self.trimTrailing(text.components(separatedBy: "{prompt}")[0]).isEmpty
    }

    /// The example with an n-token slot for a soft or projected prompt.
    public func encode(_ example: LabeledText, tokenizer: any Tokenizer, maxSentenceTokens: Int) throws -> EncodedExample {
        let sentence = Self.truncated(example.text, tokenizer: tokenizer, maxTokens: maxSentenceTokens)
        let parts = text.components(separatedBy: "{prompt}")
        // The space next to the slot belongs to the prompt's own tokens (GPT-2 and SentencePiece tokens carry
        // their leading space), so the left side loses its trailing whitespace; the right side keeps its leading
        // space, which the first word after the prompt needs.
        let left = Self.trimTrailing(parts[0].replacingOccurrences(of: "{sentence}", with: sentence))
        let right = Self.trimTrailing(parts[1].replacingOccurrences(of: "{sentence}", with: sentence))
        let prefix = tokenizer.encode(Self.trimLeading(left), addSpecial: true)
        let suffix = tokenizer.encode(right)
        return EncodedExample(prefix: prefix, suffix: suffix, label: example.label)
    }

    /// The example with a prompt written as text, tokenized as a whole: what a person would run.
    public func encode(_ example: LabeledText, promptText: String, tokenizer: any Tokenizer, maxSentenceTokens: Int) throws -> EncodedExample {
        let sentence = Self.truncated(example.text, tokenizer: tokenizer, maxTokens: maxSentenceTokens)
        let filled = render(sentence: sentence, prompt: promptText)
        let ids = tokenizer.encode(filled, addSpecial: true)
        guard !ids.isEmpty else { throw TemplateError.emptyInput(template: text) }
        return EncodedExample(prefix: ids, suffix: [], label: example.label)
    }

    /// The template as text. The prompt and the sentence are inserted as they are (the prompt without its leading
    /// whitespace: the template's own space separates it); only where two pieces meet is a doubled space closed, so
    /// an empty prompt leaves no gap and whitespace inside the prompt or the sentence is what gets measured.
    public func render(sentence: String, prompt: String) -> String {
        var filled = ""
        for piece in pieces(sentence: sentence, prompt: Self.trimLeading(prompt)) where !piece.isEmpty {
            let endsInSpace = filled.last.map { $0 == " " || $0 == "\t" } ?? true
            filled += endsInSpace ? Self.trimLeading(piece) : piece
        }
        return Self.trimTrailing(filled)
    }

    /// The template's literal text and its filled placeholders, in order.
    private func pieces(sentence: String, prompt: String) -> [String] {
        text.components(separatedBy: "{prompt}").enumerated().flatMap { index, part -> [String] in
            let around = part.components(separatedBy: "{sentence}")
            let withSentence = around.enumerated().flatMap { i, literal in i == 0 ? [literal] : [sentence, literal] }
            return index == 0 ? withSentence : [prompt] + withSentence
        }
    }

    static func truncated(_ sentence: String, tokenizer: any Tokenizer, maxTokens: Int) -> String {
        let ids = tokenizer.encode(sentence)
        return ids.count <= maxTokens ? sentence : tokenizer.decode(Array(ids.prefix(maxTokens)))
    }

    static func trimLeading(_ s: String) -> String { String(s.drop { $0 == " " || $0 == "\t" }) }
    static func trimTrailing(_ s: String) -> String { String(s.reversed().drop { $0 == " " || $0 == "\t" }.reversed()) }
}

extension Verbalizer {
    /// Each word as the model's tokens for it: one or more.
    public init(words: [String], tokenizer: any Tokenizer) throws {
        let tokens = try words.map { word -> [Int32] in
            let ids = tokenizer.encode(word)
            guard !ids.isEmpty else { throw TemplateError.emptyVerbalizer(word: word) }
            return ids
        }
        self.init(words: words, tokens: tokens)
    }
}
