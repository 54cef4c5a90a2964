// Shared access to the test fixtures: GPT-2's vocabulary files and the golden ids of gpt2-reference.json.

import Foundation
import Tokenizers

enum Fixtures {
    static var directory: URL {
        Bundle.module.resourceURL!.appendingPathComponent("Fixtures")
    }

    /// GPT-2's tokenizer from the fixture copies of encoder.json + vocab.bpe, loaded once.
    static func gpt2() throws -> GPT2Tokenizer { try gpt2Loaded.get() }

    private static let gpt2Loaded = Result {
        try GPT2Tokenizer(
            vocabularyFile: directory.appendingPathComponent("encoder.json"),
            mergesFile: directory.appendingPathComponent("vocab.bpe"))
    }

    struct Reference: Decodable {
        struct Encoded: Decodable { let text: String; let ids: [Int32] }
        struct Decoded: Decodable { let ids: [Int32]; let text: String }
        let encode: [Encoded]
        let decode: [Decoded]
    }

    /// Ids on which tiktoken and transformers agree (scripts/make_tokenizer_reference.py).
    static func reference() throws -> Reference {
        let data = try Data(contentsOf: directory.appendingPathComponent("gpt2-reference.json"))
        return try JSONDecoder().decode(Reference.self, from: data)
    }

    /// A fresh empty directory under the system's temporary directory.
    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("legible-tokenizers-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// A deterministic generator (SplitMix64) so random tests repeat exactly.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
