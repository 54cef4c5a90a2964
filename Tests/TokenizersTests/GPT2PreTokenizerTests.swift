// The hand-written GPT-2 pre-tokenizer against the GPT-2 regex run by Swift's regex engine (the plain reference).

import Foundation
import Testing
@testable import Tokenizers

@Suite struct GPT2PreTokenizerTests {
    static func scan(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var words: [String] = []
            var preTokenizer = GPT2PreTokenizer()
            preTokenizer.split(bytes) { range in
                words.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self))
            }
            return words
        }
    }

    static func regexSplit(_ text: String) throws -> [String] {
        let pattern = #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#
        let regex = try Regex(pattern).matchingSemantics(.unicodeScalar)
        return text.matches(of: regex).map { String(text.unicodeScalars[$0.range]) }
    }

    @Test func splitsLikeTheOriginalRegex() {
        #expect(Self.scan("Hello world") == ["Hello", " world"])
        #expect(Self.scan("I'm HE'S") == ["I", "'m", " HE", "'", "S"])
        #expect(Self.scan("a   b") == ["a", "  ", " b"])
        #expect(Self.scan("a \t\nb") == ["a", " \t", "\n", "b"])
        #expect(Self.scan("end  ") == ["end", "  "])
        #expect(Self.scan("x  ...y") == ["x", " ", " ...", "y"])
        #expect(Self.scan(" 42") == [" 42"])
        #expect(Self.scan("''s") == ["''", "s"])
        #expect(Self.scan("") == [])
    }

    @Test func agreesWithRegexEngineOnRandomText() throws {
        let pool: [Unicode.Scalar] = Array("ab Z9 ' \t\n\r.,;-!srtvelmd".unicodeScalars)
            + [0xA0, 0x85, 0x2009, 0x3000, 0x4E2D, 0x627, 0xE9, 0x301, 0xB2, 0x2163, 0x1F600, 0x200D, 0x1D400]
            .compactMap(Unicode.Scalar.init)
        var random = SeededGenerator(state: 11)
        for _ in 0..<300 {
            var view = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...30, using: &random) { view.append(pool.randomElement(using: &random)!) }
            let text = String(view)
            #expect(try Self.scan(text) == Self.regexSplit(text), "\(text.debugDescription)")
        }
    }

    @Test func piecesCoverTheInputExactly() {
        let text = "Mixed 日本語 text, 123 numbers\n\n  and   spaces\t!"
        #expect(Self.scan(text).joined() == text)
    }
}
