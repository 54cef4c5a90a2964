// Ids and counts in tokenizer files are bounded before anything is allocated from them, and a directory
// with two .gguf files is an error naming both rather than a silently missing tokenizer.

import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct TokenizerBoundsTests {
    /// A byte-level BPE tokenizer.json with the vocabulary {"a": 0, "b": 1} and `addedTokens`.
    func tokenizerJSON(addedTokens: [[String: Any]], in directory: URL) throws {
        let json: [String: Any] = [
            "added_tokens": addedTokens,
            "pre_tokenizer": ["type": "ByteLevel", "use_regex": true],
            "model": ["type": "BPE", "vocab": ["a": 0, "b": 1], "merges": [String]()],
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
    }

    func expectMalformed(_ directory: URL, mentioning words: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        let error = #expect(throws: TokenizerError.self, sourceLocation: sourceLocation) {
            try TokenizerLoader.load(directory: directory)
        }
        guard case .malformedFile? = error else {
            Issue.record("unexpected \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        for word in words {
            #expect(error!.description.contains(word), "\(error!) lacks \(word)", sourceLocation: sourceLocation)
        }
    }

    @Test("an added-token id of 10^9 is refused before 10^9 table entries are allocated")
    func hugeAddedTokenID() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tokenizerJSON(addedTokens: [["id": 1_000_000_000, "content": "<huge>"]], in: directory)
        expectMalformed(directory, mentioning: ["added_tokens[0].id", "1000000000", "16777216"])
    }

    @Test("added-token ids beyond Int32 and negative ones are refused, not truncated", arguments: [10_000_000_000, -1])
    func addedTokenIDOutsideInt32(id: Int) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try tokenizerJSON(addedTokens: [["id": id, "content": "<x>"]], in: directory)
        expectMalformed(directory, mentioning: ["added_tokens[0].id", "\(id)"])
    }

    @Test("a vocabulary id of 10^9 in vocab.json is refused, naming the token")
    func hugeVocabularyID() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(#"{"a": 0, "b": 1000000000}"#.utf8).write(to: directory.appendingPathComponent("vocab.json"))
        try Data("#version: 0.2\n".utf8).write(to: directory.appendingPathComponent("merges.txt"))
        expectMalformed(directory, mentioning: ["\"b\"", "1000000000"])
    }

    @Test("two .gguf files are an error naming both")
    func twoGGUFFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try TinyGGUF.gemma3(tensors: false).write("b.gguf", in: directory)
        try TinyGGUF.gemma3(tensors: false).write("a.gguf", in: directory)
        #expect(TokenizerLoader.formats(in: directory) == [.gguf(fileName: "a.gguf"), .gguf(fileName: "b.gguf")])
        let error = #expect(throws: TokenizerError.severalGGUFFiles(directory: directory.path, files: ["a.gguf", "b.gguf"])) {
            try TokenizerLoader.load(directory: directory)
        }
        #expect(error?.description.contains("a.gguf, b.gguf") == true)
        // Given the model's own file, its vocabulary is read.
        let tokenizer = try TokenizerLoader.load(directory: directory, ggufFile: "b.gguf")
        #expect(tokenizer.vocabularySize == 6)
        #expect(tokenizer.encode("ab") == [4, 5])
    }

    @Test("GGUF vocabulary arrays must agree in length, naming the key")
    func ggufArraysDisagree() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var file = TinyGGUF.gemma3(tensors: false)
        file["tokenizer.ggml.scores"] = .floats([0, 0, 0])
        try file.write(in: directory)
        expectMalformed(directory, mentioning: ["tokenizer.ggml.scores", "3 values", "6 tokens"])
    }
}
