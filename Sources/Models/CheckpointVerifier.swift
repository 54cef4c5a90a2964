// Proves a downloaded GPT-2 checkpoint is OpenAI's: every tensor's masked CRC32C (TensorFlow's checkpoint
// checksum over float32 little-endian bytes in [in, out] layout) against a manifest of the original release.
import Foundation
import WeightFiles

public struct CheckpointManifest: Decodable, Sendable {
    public struct Tensor: Decodable, Sendable {
        public let shape: [Int]
        public let maskedCRC32C: UInt32

        enum CodingKeys: String, CodingKey { case shape, crc = "openai_masked_crc32c" }

        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            shape = try c.decode([Int].self, forKey: .shape)
            let text = try c.decode(String.self, forKey: .crc)
            guard text.hasPrefix("0x"), let value = UInt32(text.dropFirst(2), radix: 16) else {
                throw DecodingError.dataCorruptedError(forKey: .crc, in: c, debugDescription: "'\(text)' is not a 0x-prefixed hex checksum")
            }
            maskedCRC32C = value
        }
    }

    public let tensors: [String: Tensor]

    public static func load(from url: URL) throws -> CheckpointManifest {
        guard let data = try? Data(contentsOf: url) else {
            throw ModelLoadError.missingFile(url.path, hint: "the manifest ships with Legible as models/gpt2/openai-checkpoint-manifest.json")
        }
        do { return try JSONDecoder().decode(CheckpointManifest.self, from: data) } catch let error as DecodingError {
            throw ModelLoadError.invalidConfig("\(url.lastPathComponent): \(error.readableDescription)")
        }
    }
}

public struct TensorVerdict: Equatable, Sendable {
    public enum Status: Equatable, Sendable {
        case match
        case differ(expected: UInt32, found: UInt32)
        case wrongShape(expected: [Int], found: [Int])
        case missing
    }
    public let name: String
    public let status: Status
}

public enum CheckpointVerifier {
    /// One verdict per manifest tensor, in name order. Tensors may be stored with or without the
    /// `transformer.` prefix and as F32, F16 or BF16 (the latter two can never match: they lost bits).
    public static func verify(_ file: SafetensorsFile, against manifest: CheckpointManifest) throws -> [TensorVerdict] {
        try manifest.tensors.keys.sorted().map { name in
            let expected = manifest.tensors[name]!
            let bare = name.hasPrefix("transformer.") ? String(name.dropFirst("transformer.".count)) : name
            guard let stored = GPT2.checkpointName(bare, in: file), let entry = file.entries[stored] else {
                return TensorVerdict(name: name, status: .missing)
            }
            // The manifest drops leading dimensions of size 1, as TensorFlow stored them.
            let shape = Array(entry.shape.drop { $0 == 1 })
            guard shape == expected.shape else {
                return TensorVerdict(name: name, status: .wrongShape(expected: expected.shape, found: entry.shape))
            }
            let crc: UInt32
            if entry.dtype == "F32" {
                crc = CRC32C.checksum(try file.rawBytes(stored))
            } else {
                let values = try file.floats(stored)
                crc = values.map { $0.bitPattern.littleEndian }.withUnsafeBytes { CRC32C.checksum($0) }
            }
            let masked = CRC32C.masked(crc)
            return TensorVerdict(name: name, status: masked == expected.maskedCRC32C
                                 ? .match : .differ(expected: expected.maskedCRC32C, found: masked))
        }
    }
}
