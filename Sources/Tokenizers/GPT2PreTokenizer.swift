// GPT-2's pre-tokenizer: splits text into the words BPE works on, as a scanner over Unicode scalars.
// Follows the regex of OpenAI's gpt-2 `encoder.py`, which tiktoken and Hugging Face share:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// with `\s` = Unicode White_Space, `\p{L}` = letters (L*), `\p{N}` = numbers (Nd, Nl, No).
// The same scanner state serves Qwen2's pattern (Qwen2PreTokenizer.swift).

/// The regex a byte-level BPE vocabulary's merges were learned on (GGUF `tokenizer.ggml.pre`).
public enum PreTokenizerPattern: String, Sendable, CaseIterable {
    /// GPT-2's, above (GGUF "gpt-2").
    case gpt2 = "gpt-2"
    /// Qwen2's: single digits, case-insensitive contractions, one non-letter before a word (GGUF "qwen2").
    case qwen2 = "qwen2"
}

/// The class of a Unicode scalar as the GPT-2 regex sees it.
enum GPT2ScalarClass: UInt8 {
    case letter, number, whitespace, other

    static func of(_ value: UInt32) -> GPT2ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return .other }
        let properties = scalar.properties
        if properties.isWhitespace { return .whitespace }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            return .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            return .number
        default:
            return .other
        }
    }
}

/// Splits valid UTF-8 into pre-tokens (byte ranges) of `pattern`, left to right, each regex alternative
/// tried in order at each position as the regex engine would.
struct GPT2PreTokenizer {
    let pattern: PreTokenizerPattern
    /// Classes of U+0000...U+FFFF, filled in as scalars are met: a property lookup costs more than
    /// the rest of the scan, and filling the whole plane up front costs more than a short text.
    private var basicPlane: [UInt8]
    private static let unknown: UInt8 = 0xFF

    init(pattern: PreTokenizerPattern = .gpt2) {
        self.pattern = pattern
        basicPlane = [UInt8](repeating: Self.unknown, count: 0x10000)
        for value in 0..<UInt32(0x80) { basicPlane[Int(value)] = GPT2ScalarClass.of(value).rawValue }
    }

    /// Calls `body` with the byte range of each pre-token of `text` (which must be valid UTF-8).
    @inline(__always)
    mutating func split(_ text: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Void) {
        let pattern = pattern
        basicPlane.withUnsafeMutableBufferPointer { classes in
            switch pattern {
            case .gpt2: Self.split(text, classes: classes, body)
            case .qwen2: Self.splitQwen2(text, classes: classes, body)
            }
        }
    }

    @inline(__always)
    static func classOf(_ value: UInt32, _ classes: UnsafeMutableBufferPointer<UInt8>) -> GPT2ScalarClass {
        guard value < 0x10000 else { return GPT2ScalarClass.of(value) }
        let known = classes[Int(value)]
        if known != unknown { return GPT2ScalarClass(rawValue: known)! }
        let computed = GPT2ScalarClass.of(value)
        classes[Int(value)] = computed.rawValue
        return computed
    }

    @inline(__always)
    private static func split(
        _ text: UnsafeBufferPointer<UInt8>, classes: UnsafeMutableBufferPointer<UInt8>, _ body: (Range<Int>) -> Void
    ) {
        let n = text.count
        var i = 0
        while i < n {
            let (first, firstLength) = scalar(text, at: i)

            // 's 't 're 've 'm 'll 'd — lower case only, as in the original regex.
            if first == 0x27, i + 1 < n {
                let b1 = text[i + 1]
                if b1 == UInt8(ascii: "s") || b1 == UInt8(ascii: "t") || b1 == UInt8(ascii: "m")
                    || b1 == UInt8(ascii: "d") {
                    body(i..<(i + 2)); i += 2; continue
                }
                if i + 2 < n {
                    let b2 = text[i + 2]
                    if (b1 == UInt8(ascii: "r") && b2 == UInt8(ascii: "e"))
                        || (b1 == UInt8(ascii: "v") && b2 == UInt8(ascii: "e"))
                        || (b1 == UInt8(ascii: "l") && b2 == UInt8(ascii: "l")) {
                        body(i..<(i + 3)); i += 3; continue
                    }
                }
            }

            var runClass = classOf(first, classes)
            var runStart = i + firstLength
            if first == 0x20, runStart < n {
                // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: a space joins the run that follows it.
                let (next, nextLength) = scalar(text, at: runStart)
                let nextClass = classOf(next, classes)
                if nextClass != .whitespace {
                    runClass = nextClass
                    runStart += nextLength
                }
            }

            if runClass != .whitespace {
                var end = runStart
                while end < n {
                    let (value, length) = scalar(text, at: end)
                    if classOf(value, classes) != runClass { break }
                    end += length
                }
                body(i..<end); i = end; continue
            }

            // `\s+(?!\S)` then `\s+`: a whitespace run that is followed by a non-space gives up its
            // last scalar (which then starts the next word), unless that would leave it empty.
            var end = runStart
            var lastStart = i
            while end < n {
                let (value, length) = scalar(text, at: end)
                if classOf(value, classes) != .whitespace { break }
                lastStart = end
                end += length
            }
            if end < n && lastStart > i { end = lastStart }
            body(i..<end); i = end
        }
    }

    /// The scalar value starting at byte `i` and its length in bytes.
    @inline(__always)
    static func scalar(_ text: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let b0 = UInt32(text[i])
        if b0 < 0x80 { return (b0, 1) }
        if b0 < 0xE0 { return ((b0 & 0x1F) << 6 | UInt32(text[i + 1] & 0x3F), 2) }
        if b0 < 0xF0 {
            return ((b0 & 0x0F) << 12 | UInt32(text[i + 1] & 0x3F) << 6 | UInt32(text[i + 2] & 0x3F), 3)
        }
        return ((b0 & 0x07) << 18 | UInt32(text[i + 1] & 0x3F) << 12 | UInt32(text[i + 2] & 0x3F) << 6
            | UInt32(text[i + 3] & 0x3F), 4)
    }
}
