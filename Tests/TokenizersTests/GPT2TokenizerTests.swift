// GPT-2 byte-level BPE against tiktoken and transformers' golden ids, and its round trips.

import Foundation
import Testing
@testable import Tokenizers

@Suite struct GPT2TokenizerTests {
    @Test func knownSentences() throws {
        let tokenizer = try Fixtures.gpt2()
        #expect(tokenizer.encode("Alan Turing theorized that computers would one day become")
            == [36235, 39141, 18765, 1143, 326, 9061, 561, 530, 1110, 1716])
        #expect(tokenizer.encode("Hello world") == [15496, 995])
        #expect(tokenizer.vocabularySize == 50257)
    }

    @Test func matchesTiktokenAndTransformers() throws {
        let tokenizer = try Fixtures.gpt2()
        let reference = try Fixtures.reference()
        #expect(reference.encode.count >= 50)
        for (index, example) in reference.encode.enumerated() {
            #expect(tokenizer.encode(example.text) == example.ids, "case \(index): \(example.text.debugDescription)")
        }
    }

    @Test func endOfTextIsOneSpecialToken() throws {
        let tokenizer = try Fixtures.gpt2()
        #expect(tokenizer.encode("<|endoftext|>") == [50256])
        #expect(tokenizer.encode("a<|endoftext|>b") == [64, 50256, 65])
        #expect(tokenizer.specialTokens.endOfText == 50256)
        #expect(tokenizer.encode("Hello world", addSpecial: true) == [15496, 995])
    }

    @Test func decodeMatchesTransformersOnSplitCharacters() throws {
        let tokenizer = try Fixtures.gpt2()
        let reference = try Fixtures.reference()
        #expect(!reference.decode.isEmpty)
        for example in reference.decode {
            #expect(tokenizer.decode(example.ids) == example.text, "ids \(example.ids)")
        }
        // "€" is e2 82 ac: its first two bytes alone are one replacement character.
        let euro = [Int32(158), 224]
        #expect(tokenizer.decode(euro) == "\u{FFFD}")
        #expect(tokenizer.decode(euro + [105]) == "€")
    }

    @Test func decodeSkipsIdsOutsideTheVocabulary() throws {
        let tokenizer = try Fixtures.gpt2()
        #expect(tokenizer.decode([15496, -1, 50257, Int32.max, 995]) == "Hello world")
    }

    @Test func roundTripsFixtureText() throws {
        let tokenizer = try Fixtures.gpt2()
        for example in try Fixtures.reference().encode {
            #expect(tokenizer.decode(tokenizer.encode(example.text)) == example.text)
        }
    }

    @Test func roundTripsRandomUnicode() throws {
        let tokenizer = try Fixtures.gpt2()
        // Scalars from many classes: ASCII, controls, Latin-1, combining marks, CJK, Arabic, emoji, ZWJ.
        let pool: [Unicode.Scalar] = Array("aZ09 '\t\n\r.,!?-_{}<|>sdtmlrve".unicodeScalars)
            + [0x85, 0xA0, 0xE9, 0x301, 0x3000, 0x4E2D, 0x6587, 0x627, 0x644, 0x1F600, 0x200D, 0x1F469,
               0xFE0F, 0x2163, 0xB2, 0x1D400, 0x1C, 0x7F, 0xFFFD, 0x10FFFF].compactMap(Unicode.Scalar.init)
        var random = SeededGenerator(state: 3)
        for _ in 0..<500 {
            var text = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0...40, using: &random) { text.append(pool.randomElement(using: &random)!) }
            let string = String(text)
            let ids = tokenizer.encode(string)
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
            #expect(tokenizer.decode(ids) == string, "\(string.debugDescription)")
        }
    }

    @Test func cacheDoesNotChangeResults() throws {
        let tokenizer = try Fixtures.gpt2()
        let text = "the cache returns the same ids the second time, the cache"
        let first = tokenizer.encode(text)
        #expect(tokenizer.encode(text) == first)
        #expect(first.count == tokenizer.encode(text + text).count / 2)
    }

    @Test func longWordsWithoutSpaces() throws {
        let tokenizer = try Fixtures.gpt2()
        let text = String(repeating: "abcdefghij", count: 300)
        #expect(tokenizer.decode(tokenizer.encode(text)) == text)
    }

    @Test func vocabularyLookups() throws {
        let tokenizer = try Fixtures.gpt2()
        #expect(tokenizer.token(for: 1049) == "Ġgreat")
        #expect(tokenizer.id(for: "Ġgreat") == 1049)
        #expect(tokenizer.id(for: "<|endoftext|>") == 50256)
        #expect(tokenizer.id(for: "not a token") == nil)
        #expect(tokenizer.token(for: 50257) == nil)
        #expect(tokenizer.token(for: -1) == nil)
    }

    @Test func readableTokens() throws {
        let tokenizer = try Fixtures.gpt2()
        #expect(tokenizer.readableToken(for: 1049) == " great")
        #expect(tokenizer.readableToken(for: 158) == "<0xE2>")
        #expect(tokenizer.readableToken(for: 198) == "\\n")
        #expect(tokenizer.readableToken(for: 197) == "\\t")
        #expect(tokenizer.readableToken(for: 50256) == "<|endoftext|>")
        #expect(tokenizer.readableToken(for: 50257) == nil)
        // A token holding a space and the first byte of a character: " <0xE2>"
        if let id = tokenizer.id(for: "Ġâ") { #expect(tokenizer.readableToken(for: id) == " <0xE2>") }
        #expect(tokenizer.readableTokens(for: [15496, 995, -3]) == ["Hello", " world", "<invalid id -3>"])
    }
}

@Suite struct BytePairMergesTests {
    /// The heap used for long words against the plain scan over every pair, on random words.
    @Test func heapMergingMatchesScanning() throws {
        let tokenizer = try Fixtures.gpt2()
        var random = SeededGenerator(state: 5)
        let alphabets = [Array("abcdefghijklmnopqrstuvwxyz".utf8), Array("aab ".utf8), Array("0123456789".utf8),
                         Array("Ġthe and ing".utf8) + Array("日本語".utf8)]
        for round in 0..<200 {
            let alphabet = alphabets[round % alphabets.count]
            let length = Int.random(in: 2...300, using: &random)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &random)! }
            var scanned = bytes.map { tokenizer.byteID($0) }
            var heaped = scanned
            tokenizer.merges.applyByScanning(to: &scanned)
            tokenizer.merges.applyWithHeap(to: &heaped)
            #expect(heaped == scanned, "bytes \(bytes)")
        }
    }

    @Test func longWordIsNotQuadratic() throws {
        let tokenizer = try Fixtures.gpt2()
        var random = SeededGenerator(state: 9)
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        let text = String((0..<200_000).map { _ in letters.randomElement(using: &random)! })
        let start = DispatchTime.now().uptimeNanoseconds
        let ids = tokenizer.encode(text)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        #expect(tokenizer.decode(ids) == text)
        // The quadratic scan takes minutes here; the heap takes well under a second even unoptimized.
        #expect(seconds < 20, "\(seconds) s")
    }
}
