// Hugging Face safetensors files: an 8-byte little-endian header length, a JSON header naming each tensor's
// dtype, shape and byte range, then the raw data. Read through a memory map; F32, F16 and BF16 load as Float.
import Foundation

public enum SafetensorsError: Error, CustomStringConvertible {
    case malformed(path: String, reason: String)
    case missingTensor(name: String, path: String)
    case unsupportedDType(name: String, dtype: String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .malformed(let path, let reason): return "\(path) is not a valid safetensors file: \(reason)"
        case .missingTensor(let name, let path): return "tensor '\(name)' is missing from \(path)"
        case .unsupportedDType(let name, let dtype):
            return "tensor '\(name)' has dtype \(dtype); only F32, F16 and BF16 are supported"
        case .shapeMismatch(let name, let expected, let found):
            return "tensor '\(name)' has shape \(found), expected \(expected)"
        }
    }
}

public struct SafetensorsEntry: Sendable {
    public let name: String
    public let dtype: String
    public let shape: [Int]
    /// Byte range within the data section.
    public let dataRange: Range<Int>
    /// Product of the shape (1 for a scalar); the reader checked that it fits in an Int.
    public let elementCount: Int
}

public final class SafetensorsFile: @unchecked Sendable {
    public let path: String
    public let entries: [String: SafetensorsEntry]
    public let metadata: [String: String]
    private let file: MappedFile
    private let dataStart: Int

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        guard bytes.count >= 8 else { throw SafetensorsError.malformed(path: path, reason: "shorter than its 8-byte header length") }
        let headerLength = Int(clamping: file.load(UInt64.self, at: 0))
        guard headerLength <= bytes.count - 8 else {
            throw SafetensorsError.malformed(path: path, reason: "header length \(headerLength) runs past the end of the file")
        }
        dataStart = 8 + headerLength
        let headerData = Data(bytes[8..<dataStart])
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw SafetensorsError.malformed(path: path, reason: "header is not a JSON object")
        }
        var entries: [String: SafetensorsEntry] = [:]
        var metadata: [String: String] = [:]
        let dataCount = bytes.count - dataStart
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw SafetensorsError.malformed(path: path, reason: "entry '\(name)' lacks dtype, shape or data_offsets") }
            guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataCount else {
                throw SafetensorsError.malformed(path: path, reason: "entry '\(name)' points past the end of the file")
            }
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw SafetensorsError.malformed(path: path, reason: "entry '\(name)' has a negative dimension in its shape \(shape)")
            }
            // The element count and the byte count (8 bytes at most per element) are checked before either is
            // used: a shape near 2^62 would otherwise overflow, or size an allocation of exabytes.
            let elementSize = Self.elementSize(dtype)
            var elementCount = 1, byteCount = elementSize ?? 1
            for d in shape {
                let (elements, elementsOverflow) = elementCount.multipliedReportingOverflow(by: d)
                let (bytes, bytesOverflow) = byteCount.multipliedReportingOverflow(by: d)
                guard !elementsOverflow, !bytesOverflow else {
                    throw SafetensorsError.malformed(path: path, reason: "entry '\(name)' has shape \(shape), whose size overflows a 64-bit integer")
                }
                (elementCount, byteCount) = (elements, bytes)
            }
            let range = offsets[0]..<offsets[1]
            if elementSize != nil, byteCount != range.count {
                throw SafetensorsError.malformed(path: path, reason: "entry '\(name)' holds \(range.count) bytes, not \(byteCount) for \(dtype) \(shape)")
            }
            entries[name] = SafetensorsEntry(name: name, dtype: dtype, shape: shape, dataRange: range, elementCount: elementCount)
        }
        self.entries = entries
        self.metadata = metadata
    }

    static func elementSize(_ dtype: String) -> Int? {
        switch dtype {
        case "F32", "I32", "U32": return 4
        case "F16", "BF16", "I16", "U16": return 2
        case "F64", "I64", "U64": return 8
        case "I8", "U8", "BOOL": return 1
        default: return nil
        }
    }

    /// Raw little-endian bytes of a tensor, as stored.
    public func rawBytes(_ name: String) throws -> UnsafeRawBufferPointer {
        guard let entry = entries[name] else { throw SafetensorsError.missingTensor(name: name, path: path) }
        return UnsafeRawBufferPointer(rebasing: file.bytes[(dataStart + entry.dataRange.lowerBound)..<(dataStart + entry.dataRange.upperBound)])
    }

    /// Converts a floating-point tensor to Float into `destination`, checking its shape when one is expected.
    public func read(_ name: String, expectedShape: [Int]? = nil, into destination: UnsafeMutablePointer<Float>) throws {
        guard let entry = entries[name] else { throw SafetensorsError.missingTensor(name: name, path: path) }
        if let expectedShape, expectedShape != entry.shape {
            throw SafetensorsError.shapeMismatch(name: name, expected: expectedShape, found: entry.shape)
        }
        let raw = try rawBytes(name)
        let n = entry.elementCount
        switch entry.dtype {
        case "F32":
            for i in 0..<n { destination[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
        case "F16":
            for i in 0..<n { destination[i] = Float(halfBits: UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) }
        case "BF16":
            for i in 0..<n {
                let bits = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                destination[i] = Float(bitPattern: UInt32(bits) << 16)
            }
        default:
            throw SafetensorsError.unsupportedDType(name: name, dtype: entry.dtype)
        }
    }

    public func floats(_ name: String, expectedShape: [Int]? = nil) throws -> [Float] {
        guard let entry = entries[name] else { throw SafetensorsError.missingTensor(name: name, path: path) }
        // Only a float dtype's byte count was checked against the file: refuse the others before allocating.
        guard ["F32", "F16", "BF16"].contains(entry.dtype) else {
            throw SafetensorsError.unsupportedDType(name: name, dtype: entry.dtype)
        }
        var result = [Float](repeating: 0, count: entry.elementCount)
        try result.withUnsafeMutableBufferPointer { try read(name, expectedShape: expectedShape, into: $0.baseAddress!) }
        return result
    }
}

extension Float {
    /// IEEE 754 half precision to single, by hand so it works on every platform.
    public init(halfBits h: UInt16) {
        let sign = UInt32(h >> 15) << 31
        let exponent = Int(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        if exponent == 0 {
            // Zero or subnormal: value = mantissa · 2⁻²⁴.
            let magnitude = Float(mantissa) * 0x1p-24
            self = sign == 0 ? magnitude : -magnitude
        } else if exponent == 0x1F {
            self = Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        } else {
            self = Float(bitPattern: sign | UInt32(exponent + 112) << 23 | (mantissa << 13))
        }
    }
}

/// Writes float32 tensors and string metadata as a safetensors file, atomically (temporary file, then rename).
public enum SafetensorsWriter {
    public struct Tensor {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) {
            precondition(shape.reduce(1, *) == values.count, "tensor '\(name)': shape \(shape) does not hold \(values.count) values")
            self.name = name; self.shape = shape; self.values = values
        }
    }

    public static func write(_ tensors: [Tensor], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var offset = 0
        for tensor in tensors {
            let size = tensor.values.count * 4
            header[tensor.name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [offset, offset + size]]
            offset += size
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the format recommends.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var data = Data()
        data.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for tensor in tensors {
            tensor.values.withUnsafeBufferPointer { values in
                for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
            }
        }
        try AtomicFile.write(data, to: url)
    }
}
