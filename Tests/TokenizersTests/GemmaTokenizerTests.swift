// Gemma 3's tokenizer rebuilt from its GGUF metadata, against transformers' ids for the same file
// (Fixtures/gemma3-reference.json, written by scripts/make_tokenizer_reference.py --gemma).
//
// Needs the 253 MB model, found in one place: $LEGIBLE_GEMMA_GGUF, else
// models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf under the package root (scripts/fetch-model gemma-3-270m).
// Skipped when absent.

import Foundation
import Testing
import Tokenizers

enum GemmaModelFile {
    static var path: String? {
        if let path = ProcessInfo.processInfo.environment["LEGIBLE_GEMMA_GGUF"], !path.isEmpty {
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = packageRoot.appendingPathComponent("models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
}

@Suite(.enabled(if: GemmaModelFile.path != nil, "needs the Gemma 3 270M GGUF"))
struct GemmaTokenizerTests {
    struct Reference: Decodable {
        struct Encoded: Decodable { let text: String; let ids: [Int32]; let withSpecial: [Int32] }
        let encode: [Encoded]
    }

    static let tokenizer = Result { try SentencePieceTokenizer(ggufFile: URL(fileURLWithPath: GemmaModelFile.path!)) }

    @Test func matchesTransformers() throws {
        let tokenizer = try Self.tokenizer.get()
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("gemma3-reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.encode.count > 50)
        for example in reference.encode {
            #expect(tokenizer.encode(example.text) == example.ids, "\(example.text.debugDescription)")
            #expect(tokenizer.encode(example.text, addSpecial: true) == example.withSpecial)
            #expect(tokenizer.decode(example.ids) == example.text, "\(example.text.debugDescription)")
        }
    }

    @Test func specialTokensAndRendering() throws {
        let tokenizer = try Self.tokenizer.get()
        #expect(tokenizer.vocabularySize == 262_144)
        #expect(tokenizer.specialTokens == SpecialTokens(
            endOfText: 1, beginningOfSequence: 2, padding: 0, unknown: 3, addsBeginningOfSequence: true))
        let ids = tokenizer.encode("Hello world\n")
        #expect(tokenizer.readableTokens(for: ids) == ["Hello", " world", "\\n"])
        #expect(tokenizer.readableToken(for: 2) == "<bos>")
    }

    @Test func loaderFindsTheGGUF() throws {
        let directory = URL(fileURLWithPath: GemmaModelFile.path!).deletingLastPathComponent()
        let tokenizer = try TokenizerLoader.load(directory: directory)
        #expect(tokenizer.encode("Hello world") == [9259, 1902])
    }
}
