// Qwen2.5-Coder's byte-level BPE tokenizer read from its GGUF metadata, against transformers' ids for the same file
// (Fixtures/qwen2-reference.json, written by scripts/make_qwen_tokenizer_reference.py).
//
// Needs the 491 MB model, found in one place: $LEGIBLE_QWEN_GGUF, else
// models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf under the package root (scripts/fetch-model
// qwen2.5-coder-0.5b, which scripts/test runs). Skipped when absent, except under CI (CI set), where the missing file
// fails the tests instead.

import Foundation
import Testing
import Tokenizers

enum QwenModelFile {
    static let environmentVariable = "LEGIBLE_QWEN_GGUF"
    static let relativePath = "models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf"

    static var path: String? {
        if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty {
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = packageRoot.appendingPathComponent(relativePath).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Under CI the model is fetched before the tests run, so its absence is a failure, not a reason to skip.
    static var isRequired: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "no Qwen2.5-Coder GGUF at \(relativePath) or $\(environmentVariable); run scripts/fetch-model qwen2.5-coder-0.5b"
        }
    }
}

@Suite(.enabled(
    if: QwenModelFile.path != nil || QwenModelFile.isRequired,
    "needs models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf or $LEGIBLE_QWEN_GGUF (scripts/fetch-model qwen2.5-coder-0.5b)"))
struct QwenTokenizerTests {
    struct Reference: Decodable {
        struct Encoded: Decodable { let text: String; let ids: [Int32]; let withSpecial: [Int32] }
        let vocabularySize: Int
        let encode: [Encoded]
    }

    /// Loaded once for the suite: reading 151,936 tokens and 151,387 merges per test would only repeat work.
    static let tokenizer = Result { () throws -> any Tokenizer in
        guard let path = QwenModelFile.path else { throw QwenModelFile.Missing() }
        return try GGUFTokenizer.load(URL(fileURLWithPath: path))
    }

    @Test func matchesTransformers() throws {
        let tokenizer = try Self.tokenizer.get()
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("qwen2-reference.json"))
        let reference = try JSONDecoder().decode(Reference.self, from: data)
        #expect(reference.encode.count > 50)
        #expect(tokenizer.vocabularySize == reference.vocabularySize)
        for example in reference.encode {
            let ids = tokenizer.encode(example.text)
            #expect(ids == example.ids, "\(example.text.debugDescription)")
            #expect(tokenizer.encode(example.text, addSpecial: true) == example.withSpecial)
            #expect(tokenizer.decode(ids) == example.text, "\(example.text.debugDescription)")
        }
    }

    @Test func specialAndControlTokens() throws {
        let tokenizer = try Self.tokenizer.get()
        #expect((tokenizer as? GPT2Tokenizer)?.pattern == .qwen2)
        #expect(tokenizer.vocabularySize == 151_936)
        #expect(tokenizer.specialTokens == SpecialTokens(
            endOfText: 151_645, beginningOfSequence: 151_643, padding: 151_643, unknown: nil, addsBeginningOfSequence: false))
        #expect(tokenizer.id(for: "<|im_start|>") == 151_644)
        #expect(tokenizer.readableToken(for: 151_644) == "<|im_start|>")
        // Control tokens (type 3) and unused slots (type 5) are control; `<tool_call>` (user-defined) and words are not.
        for id: Int32 in [151_643, 151_644, 151_645, 151_659, 151_664, 151_665, 151_935] {
            #expect(tokenizer.isControlToken(id), "\(id)")
        }
        for id: Int32 in [151_657, 151_658, 9707, 198] { #expect(!tokenizer.isControlToken(id), "\(id)") }
        #expect(tokenizer.readableTokens(for: tokenizer.encode("Hello world\n")) == ["Hello", " world", "\\n"])
    }

    @Test func loaderFindsTheGGUF() throws {
        guard let path = QwenModelFile.path else { throw QwenModelFile.Missing() }
        let tokenizer = try TokenizerLoader.load(directory: URL(fileURLWithPath: path).deletingLastPathComponent())
        #expect(tokenizer.encode("Hello world") == [9707, 1879])
    }
}
