// The hand-written Qwen2 pre-tokenizer against splits worked out from the regex by hand, against the regex run by
// Swift's regex engine (the plain reference), and against Oniguruma's splits recorded in qwen2-reference.json
// (scripts/make_qwen_tokenizer_reference.py). None of these needs the model.

import Foundation
import Testing
@testable import Tokenizers

@Suite struct Qwen2PreTokenizerTests {
    static let pattern =
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static func scan(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var words: [String] = []
            var preTokenizer = GPT2PreTokenizer(pattern: .qwen2)
            preTokenizer.split(bytes) { range in
                words.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return words
        }
    }

    static func regexSplit(_ text: String) throws -> [String] {
        let regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
        return text.matches(of: regex).map { String(text.unicodeScalars[$0.range]) }
    }

    @Test("splits worked out from the regex by hand")
    func handComputedSplits() {
        // \p{N}: one digit at a time.
        #expect(Self.scan("12345") == ["1", "2", "3", "4", "5"])
        #expect(Self.scan("3.14") == ["3", ".", "1", "4"])
        #expect(Self.scan("$100") == ["$", "1", "0", "0"])
        #expect(Self.scan("x\u{B2}") == ["x", "\u{B2}"])
        // Contractions in any case, but only where a word starts.
        #expect(Self.scan("don't DON'T") == ["don", "'t", " DON", "'T"])
        #expect(Self.scan("we'll WE'LL We'Re") == ["we", "'ll", " WE", "'LL", " We", "'Re"])
        #expect(Self.scan("'S 'T") == ["'S", " '", "T"])
        #expect(Self.scan("'sup") == ["'s", "up"])
        // Long s case-folds to s in Oniguruma.
        #expect(Self.scan("'\u{17F}x") == ["'\u{17F}", "x"])
        // One scalar that is not a newline, letter or number joins the letters after it.
        #expect(Self.scan("(hello") == ["(hello"])
        #expect(Self.scan("((hello") == ["((", "hello"])
        #expect(Self.scan(" (hello") == [" (", "hello"])
        #expect(Self.scan("\t(hello") == ["\t", "(hello"])
        #expect(Self.scan("\u{A0}hi a\u{3000}b") == ["\u{A0}hi", " a", "\u{3000}b"])
        #expect(Self.scan("'hello") == ["'hello"])
        #expect(Self.scan("cafe\u{301}") == ["cafe", "\u{301}"])
        #expect(Self.scan("\u{301}abc") == ["\u{301}abc"])
        // Punctuation keeps the newlines after it.
        #expect(Self.scan("x.\n\n y") == ["x", ".\n\n", " y"])
        #expect(Self.scan("f():\n    return") == ["f", "():\n", "   ", " return"])
        // Whitespace runs end after their last newline; otherwise they leave one space for the next word.
        #expect(Self.scan("a\n\n  b") == ["a", "\n\n", " ", " b"])
        #expect(Self.scan("a  \nb") == ["a", "  \n", "b"])
        #expect(Self.scan("a \r\n\r\n") == ["a", " \r\n\r\n"])
        #expect(Self.scan("  \n  ") == ["  \n", "  "])
        #expect(Self.scan("a   b") == ["a", "  ", " b"])
        #expect(Self.scan("a  1") == ["a", " ", " ", "1"])
        #expect(Self.scan("hi  ") == ["hi", "  "])
        #expect(Self.scan("") == [])
    }

    @Test func agreesWithRegexEngineOnRandomText() throws {
        // Long s is left out: Swift's case-insensitive matching does not fold it as Oniguruma does.
        let pool: [Unicode.Scalar] = Array("ab Z9 ' \t\n\r.,;-!(srtvelmdSRTVELMD$".unicodeScalars)
            + [0xA0, 0x85, 0x2009, 0x3000, 0x4E2D, 0x627, 0xE9, 0x301, 0xB2, 0x2163, 0x1F600, 0x200D, 0x1D400]
            .compactMap(Unicode.Scalar.init)
        var random = SeededGenerator(state: 17)
        for _ in 0..<400 {
            var view = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...30, using: &random) { view.append(pool.randomElement(using: &random)!) }
            let text = String(view)
            #expect(try Self.scan(text) == Self.regexSplit(text), "\(text.debugDescription)")
        }
    }

    @Test("the pieces Hugging Face tokenizers (Oniguruma) splits the fixture texts into")
    func agreesWithOniguruma() throws {
        struct Reference: Decodable {
            struct Case: Decodable { let text: String; let pieces: [String] }
            let encode: [Case]
        }
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("qwen2-reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.encode.count > 50)
        for example in reference.encode {
            #expect(Self.scan(example.text) == example.pieces, "\(example.text.debugDescription)")
        }
    }

    @Test func piecesCoverTheInputExactly() {
        let text = "Mixed 日本語 text, 123 numbers\n\n  and   spaces\t! DON'T (x) 'ſ\r\n"
        #expect(Self.scan(text).joined() == text)
    }
}

/// A tokenizer.json with Qwen2's pre-tokenizer section as transformers saves it (a Split on the regex, then a
/// ByteLevel step without one) is read with Qwen2's split, and its special added tokens are control tokens.
@Suite struct Qwen2TokenizerJSONTests {
    func write(preTokenizer: [String: Any]) throws -> URL {
        let alphabet = (0..<256).map { ByteLevelAlphabet.spelling(of: [UInt8($0)]) }
        var vocabulary = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, $0) })
        vocabulary["12"] = 256
        let root: [String: Any] = [
            "model": ["type": "BPE", "vocab": vocabulary, "merges": ["1 2"]],
            "pre_tokenizer": preTokenizer,
            "added_tokens": [["id": 257, "content": "<|endoftext|>", "special": true], ["id": 258, "content": "<tool>", "special": false]],
        ]
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("qwen2-tokenizer-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: root).write(to: file)
        return file
    }

    static let qwen2: [String: Any] = ["type": "Sequence", "pretokenizers": [
        ["type": "Split", "pattern": ["Regex": Qwen2PreTokenizerTests.pattern], "behavior": "Isolated", "invert": false],
        ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
    ]]

    @Test func qwen2SplitsDigitsOneByOneWhereGPT2KeepsThemTogether() throws {
        let qwen = try GPT2Tokenizer(tokenizerJSON: write(preTokenizer: Self.qwen2))
        let gpt2 = try GPT2Tokenizer(tokenizerJSON: write(preTokenizer: ["type": "ByteLevel", "add_prefix_space": false]))
        #expect(qwen.pattern == .qwen2 && gpt2.pattern == .gpt2)
        // "12" is a merge: GPT-2's regex keeps the run of digits in one piece and merges it, Qwen2's splits them.
        #expect(gpt2.encode("12") == [256])
        #expect(qwen.encode("12") == [49, 50])  // the vocabulary's id of a single byte is the byte
        #expect(qwen.isControlToken(257) && !qwen.isControlToken(258) && !qwen.isControlToken(256))
    }

    @Test func anotherSplitRegexIsRefused() throws {
        var other = Self.qwen2
        other["pretokenizers"] = [
            ["type": "Split", "pattern": ["Regex": "\\s+"], "behavior": "Isolated", "invert": false],
            ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
        ]
        #expect(throws: TokenizerError.self) { _ = try GPT2Tokenizer(tokenizerJSON: write(preTokenizer: other)) }
    }
}
