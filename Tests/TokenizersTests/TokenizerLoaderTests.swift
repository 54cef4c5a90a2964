// Finding the tokenizer in a directory: each GPT-2 file format, and a clear error when there is none.

import Foundation
import Testing
@testable import Tokenizers

@Suite struct TokenizerLoaderTests {
    static func copyFixtures(_ names: [(String, String)], into directory: URL) throws {
        for (source, destination) in names {
            try FileManager.default.copyItem(
                at: Fixtures.directory.appendingPathComponent(source), to: directory.appendingPathComponent(destination))
        }
    }

    @Test func loadsOpenAIFiles() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.copyFixtures([("encoder.json", "encoder.json"), ("vocab.bpe", "vocab.bpe")], into: directory)
        #expect(TokenizerLoader.formats(in: directory) == [.encoderJSONAndVocabBPE])
        let tokenizer = try TokenizerLoader.load(directory: directory)
        #expect(tokenizer.encode("Hello world") == [15496, 995])
    }

    @Test func loadsHuggingFaceVocabAndMerges() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Self.copyFixtures([("encoder.json", "vocab.json"), ("vocab.bpe", "merges.txt")], into: directory)
        let tokenizer = try TokenizerLoader.load(directory: directory)
        #expect(tokenizer.encode("Hello world<|endoftext|>") == [15496, 995, 50256])
    }

    @Test func loadsByteLevelTokenizerJSON() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        // A tokenizer.json in Hugging Face's layout, built from the fixture vocabulary and merges.
        let vocabulary = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.directory.appendingPathComponent("encoder.json")))
        let merges = try String(contentsOf: Fixtures.directory.appendingPathComponent("vocab.bpe"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: " ").map(String.init) }
        let json: [String: Any] = [
            "version": "1.0",
            "added_tokens": [["id": 50256, "content": "<|endoftext|>", "special": true]],
            "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
            "model": ["type": "BPE", "vocab": vocabulary, "merges": merges],
        ]
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("tokenizer.json"))
        let tokenizer = try TokenizerLoader.load(directory: directory)
        let reference = try Fixtures.reference()
        for example in reference.encode {
            #expect(tokenizer.encode(example.text) == example.ids)
        }
    }

    @Test func unsupportedTokenizerJSONIsExplained() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let json = #"{"model": {"type": "WordPiece", "vocab": {}}, "pre_tokenizer": null}"#
        try Data(json.utf8).write(to: directory.appendingPathComponent("tokenizer.json"))
        #expect {
            try TokenizerLoader.load(directory: directory)
        } throws: { error in
            "\(error)".contains("WordPiece")
        }
    }

    @Test func emptyDirectoryGivesAHint() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: TokenizerError.noTokenizerFiles(directory: directory.path)) {
            try TokenizerLoader.load(directory: directory)
        }
        #expect(TokenizerError.noTokenizerFiles(directory: "m").description.contains("encoder.json"))
        #expect(throws: TokenizerError.self) {
            try TokenizerLoader.load(directory: directory.appendingPathComponent("nope"))
        }
    }

    @Test func malformedFilesAreReportedNotCrashed() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("{not json".utf8).write(to: directory.appendingPathComponent("encoder.json"))
        try Data("#version: 0.2\na b c\n".utf8).write(to: directory.appendingPathComponent("vocab.bpe"))
        #expect {
            try TokenizerLoader.load(directory: directory)
        } throws: { error in
            guard case .malformedFile(let path, _) = error as? TokenizerError else { return false }
            return path.hasSuffix("encoder.json")
        }
        // Valid JSON but a vocabulary without the byte alphabet.
        try Data(#"{"a": 0, "b": 1}"#.utf8).write(to: directory.appendingPathComponent("encoder.json"))
        try Data("#version: 0.2\na b\n".utf8).write(to: directory.appendingPathComponent("vocab.bpe"))
        #expect {
            try TokenizerLoader.load(directory: directory)
        } throws: { error in
            "\(error)".contains("byte")
        }
    }
}
