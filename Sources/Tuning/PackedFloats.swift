// Large float arrays in JSON state files: base64 of their little-endian bytes, a third the size of decimal
// numbers and exact, and fast to write after every step.
import Foundation

public struct PackedFloats: Codable, Sendable, Equatable {
    public var values: [Float]

    public init(_ values: [Float]) { self.values = values }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let data = Data(base64Encoded: text), data.count % 4 == 0 else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not base64 float32 data"))
        }
        values = data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        let data = values.withUnsafeBufferPointer { Data(buffer: $0) }  // little-endian on every platform Swift runs here
        try container.encode(data.base64EncodedString())
    }
}
