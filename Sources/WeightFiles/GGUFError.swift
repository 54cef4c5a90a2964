// Everything that can be wrong with a GGUF file or a request made of it, each naming the file, key or
// tensor and what was expected vs found. Mirrors the checks in ggml's gguf.cpp reader.

public enum GGUFError: Error, CustomStringConvertible, Equatable, Sendable {
    // The container.
    case cannotOpen(file: String, reason: String)
    case badMagic(file: String, found: [UInt8])
    case unsupportedVersion(file: String, version: UInt32)
    /// A read of `needed` bytes at `offset` ran past the end of a `fileSize`-byte file.
    case truncated(file: String, reading: String, offset: Int, needed: Int, fileSize: Int)
    case unknownValueType(file: String, key: String, rawType: UInt32)
    case arrayNestedTooDeeply(file: String, key: String, depth: Int)
    case duplicateKey(file: String, key: String)
    case invalidAlignment(file: String, found: String)

    // The tensor table.
    case unknownTensorType(file: String, tensor: String, rawType: UInt32)
    case duplicateTensor(file: String, tensor: String)
    case invalidDimensions(file: String, tensor: String, dimensions: [Int64], reason: String)
    case misalignedTensor(file: String, tensor: String, offset: Int, alignment: Int)
    case tensorOutOfBounds(file: String, tensor: String, start: Int, end: Int, fileSize: Int)

    // Lookups.
    case missingKey(file: String, key: String)
    case wrongValueType(file: String, key: String, expected: String, found: String)
    case valueOutOfRange(file: String, key: String, value: String, expected: String)
    case missingTensor(file: String, tensor: String)

    // Dequantization.
    case unsupportedDequantization(tensor: String, type: GGMLType)
    case rowNotMultipleOfBlock(tensor: String, type: GGMLType, rowLength: Int, blockSize: Int)
    case wrongByteCount(tensor: String, type: GGMLType, expected: Int, found: Int)
    case wrongElementCount(tensor: String, expected: Int, found: Int)
    case rowsOutOfRange(tensor: String, rows: Range<Int>, rowCount: Int)

    public var description: String {
        switch self {
        case .cannotOpen(let file, let reason):
            return "cannot read GGUF file \(file): \(reason)"
        case .badMagic(let file, let found):
            let shown = found.map { String($0, radix: 16, uppercase: true) }.joined(separator: " ")
            return "\(file) is not a GGUF file: expected magic bytes 47 47 55 46 (\"GGUF\"), found \(shown)"
        case .unsupportedVersion(let file, let version):
            let hint = version > 0xFFFF && version.byteSwapped <= 3
                ? " (a big-endian GGUF file; only little-endian files are read)" : ""
            return "\(file): GGUF version \(version) is not supported; expected 2 or 3\(hint)"
        case .truncated(let file, let reading, let offset, let needed, let fileSize):
            return "\(file) is truncated or corrupt: reading \(reading) needs \(needed) bytes at offset \(offset),"
                + " but the file has \(fileSize) bytes"
        case .unknownValueType(let file, let key, let rawType):
            return "\(file): metadata key '\(key)' has unknown value type \(rawType); expected 0...12"
        case .arrayNestedTooDeeply(let file, let key, let depth):
            return "\(file): metadata key '\(key)' nests arrays \(depth) deep; at most 8 levels are read"
        case .duplicateKey(let file, let key):
            return "\(file): metadata key '\(key)' appears more than once"
        case .invalidAlignment(let file, let found):
            return "\(file): general.alignment must be a non-zero power of two stored as uint32, found \(found)"
        case .unknownTensorType(let file, let tensor, let rawType):
            return "\(file): tensor '\(tensor)' has unknown ggml type \(rawType)"
        case .duplicateTensor(let file, let tensor):
            return "\(file): tensor '\(tensor)' appears more than once in the tensor table"
        case .invalidDimensions(let file, let tensor, let dimensions, let reason):
            return "\(file): tensor '\(tensor)' has invalid dimensions \(dimensions): \(reason)"
        case .misalignedTensor(let file, let tensor, let offset, let alignment):
            return "\(file): tensor '\(tensor)' data offset \(offset) is not a multiple of the alignment \(alignment)"
        case .tensorOutOfBounds(let file, let tensor, let start, let end, let fileSize):
            return "\(file): tensor '\(tensor)' occupies bytes \(start)..<\(end), past the end of the"
                + " \(fileSize)-byte file (truncated download?)"
        case .missingKey(let file, let key):
            return "\(file): metadata key '\(key)' is missing"
        case .wrongValueType(let file, let key, let expected, let found):
            return "\(file): metadata key '\(key)' should be \(expected), found \(found)"
        case .valueOutOfRange(let file, let key, let value, let expected):
            return "\(file): metadata key '\(key)' = \(value) is out of range; expected \(expected)"
        case .missingTensor(let file, let tensor):
            return "\(file): tensor '\(tensor)' is missing"
        case .unsupportedDequantization(let tensor, let type):
            return "tensor '\(tensor)': dequantizing \(type.name) is not supported; supported types are "
                + GGMLType.dequantizable.map(\.name).joined(separator: ", ")
        case .rowNotMultipleOfBlock(let tensor, let type, let rowLength, let blockSize):
            return "tensor '\(tensor)': row length \(rowLength) is not a multiple of \(type.name)'s block size \(blockSize)"
        case .wrongByteCount(let tensor, let type, let expected, let found):
            return "tensor '\(tensor)': \(type.name) data should be \(expected) bytes, found \(found)"
        case .wrongElementCount(let tensor, let expected, let found):
            return "tensor '\(tensor)': output buffer holds \(found) floats, expected \(expected)"
        case .rowsOutOfRange(let tensor, let rows, let rowCount):
            return "tensor '\(tensor)': rows \(rows) are outside 0..<\(rowCount)"
        }
    }
}
