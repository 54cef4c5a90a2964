// A classification example ready for a prompt: token ids before and after the prompt's slot, and its label.
// The label word (its first token) is predicted at the last token of [prefix | prompt | suffix].
import Models

public struct EncodedExample: Sendable, Equatable {
    public var prefix: [Int32]
    public var suffix: [Int32]
    public var label: Int

    public init(prefix: [Int32], suffix: [Int32], label: Int) {
        self.prefix = prefix; self.suffix = suffix; self.label = label
    }

    public func length(promptLength n: Int) -> Int { prefix.count + n + suffix.count }
}

/// The label words in label order, each as the token ids the model reads for it (one or more).
public struct Verbalizer: Sendable, Equatable {
    public var words: [String]
    public var tokens: [[Int32]]

    public init(words: [String], tokens: [[Int32]]) {
        precondition(words.count == tokens.count, "one token list per verbalizer word")
        precondition(tokens.allSatisfy { !$0.isEmpty }, "every verbalizer word is at least one token")
        self.words = words; self.tokens = tokens
    }

    public var classCount: Int { tokens.count }

    /// Every word is one token: a class's score is then its word's logit at the example's last token.
    public var isSingleToken: Bool { tokens.allSatisfy { $0.count == 1 } }

    /// Each word's first token: the one predicted right after the example.
    public var firstTokens: [Int32] { tokens.map { $0[0] } }
}

/// A prompt in the model's input-embedding space: n rows of C floats.
public struct PromptEmbeddings: Sendable, Equatable {
    public var length: Int
    public var width: Int
    public var values: [Float]

    public init(length: Int, width: Int, values: [Float]) {
        precondition(values.count == length * width, "prompt values do not fill \(length)×\(width)")
        self.length = length; self.width = width; self.values = values
    }

    public static func empty(width: Int) -> PromptEmbeddings { PromptEmbeddings(length: 0, width: width, values: []) }

    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * width)..<((i + 1) * width)] }
}

extension CausalLM {
    /// The input embeddings the model reads for these token ids, as a prompt.
    public func promptEmbeddings(of ids: [Int32]) throws -> PromptEmbeddings {
        var values = [Float](repeating: 0, count: ids.count * width)
        if !ids.isEmpty { try values.withUnsafeMutableBufferPointer { try embed(ids, into: $0.baseAddress!) } }
        return PromptEmbeddings(length: ids.count, width: width, values: values)
    }
}
