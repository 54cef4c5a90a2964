// Access to the GGUF fixtures written by scripts/make_gguf_reference.py, and temporary corrupt copies.
import Foundation
@testable import WeightFiles

enum GGUFFixtures {
    static let directory: URL = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    /// Raw blocks of one type and gguf-py's dequantization of them.
    static func dequantCase(_ type: GGMLType) throws -> (blocks: [UInt8], expected: [Float]) {
        let blocks = try bytes("dequant/\(type.name).blocks")
        let raw = try bytes("dequant/\(type.name).expected.f32")
        let expected = stride(from: 0, to: raw.count, by: 4).map { i in
            Float(bitPattern: UInt32(raw[i]) | UInt32(raw[i + 1]) << 8 | UInt32(raw[i + 2]) << 16 | UInt32(raw[i + 3]) << 24)
        }
        return (blocks, expected)
    }

    struct TinyFile: Decodable {
        struct Tensor: Decodable {
            let name: String
            let dimensions: [Int]
            let type: String
            let fileOffset: Int
            let byteCount: Int
            let values: [Double]
        }
        let file: String
        let alignment: Int
        let tensors: [Tensor]
    }

    static func tinyManifest() throws -> [TinyFile] {
        try JSONDecoder().decode([TinyFile].self, from: Data(contentsOf: url("tiny.json")))
    }

    /// Writes `bytes` to a fresh temporary file, opens it as GGUF, and returns the error it raised
    /// (nil if it opened). The file is removed afterwards.
    static func openingError(_ bytes: [UInt8]) throws -> GGUFError? {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("legible-gguf-\(UUID().uuidString).gguf").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do throws(GGUFError) {
            _ = try GGUFFile(path: path)
            return nil
        } catch {
            return error
        }
    }
}

extension Array where Element == UInt8 {
    /// Where `needle` first occurs at or after `start`.
    func firstOffset(of needle: String, from start: Int = 0) -> Int? {
        let pattern = Array(needle.utf8)
        guard pattern.count <= count else { return nil }
        for i in start...(count - pattern.count) where self[i..<(i + pattern.count)].elementsEqual(pattern) {
            return i
        }
        return nil
    }

    mutating func storeLittleEndian<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for i in 0..<MemoryLayout<T>.size { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
