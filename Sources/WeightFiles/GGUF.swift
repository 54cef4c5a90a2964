// A GGUF file (versions 2 and 3): header, typed metadata, tensor table, and memory-mapped tensor data.
// Layout and validity checks follow the GGUF specification (ggml docs/gguf.md) and ggml's gguf.cpp.

/// One entry of the tensor table.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order, fastest-varying first: `dimensions[0]` is the row length. PyTorch's shape is `shape`.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Where the data starts, relative to the file's data section, as the table stores it.
    public let offset: Int
    /// Where the data starts, from the beginning of the file.
    public let fileOffset: Int
    /// Product of the dimensions (1 for a scalar).
    public let elementCount: Int
    public let byteCount: Int

    /// Row-major shape, slowest-varying first, as numpy and PyTorch write it: `dimensions` reversed.
    public var shape: [Int] { dimensions.reversed() }
    /// Elements per row (ggml's ne[0]); blocks never straddle rows.
    public var rowLength: Int { dimensions.first ?? 1 }
    /// Rows of `rowLength` elements: the product of every dimension but the first.
    public var rowCount: Int { dimensions.dropFirst().reduce(1, *) }
    public var bytesPerRow: Int { type.byteCount(elements: rowLength) }
}

public final class GGUFFile: Sendable {
    public let path: String
    public let version: Int
    public let metadata: GGUFMetadata
    /// The tensor table in file order.
    public let tensors: [GGUFTensorInfo]
    /// `general.alignment`, or 32 when absent.
    public let alignment: Int
    /// Start of the tensor data section from the beginning of the file.
    public let dataOffset: Int

    private let mapped: MappedFile
    private let tensorIndex: [String: Int]

    public static let defaultAlignment = 32
    /// Deeper nesting is refused so that a hostile file cannot exhaust the stack.
    static let maximumArrayDepth = 8
    /// ggml's GGML_MAX_DIMS.
    static let maximumDimensions = 4

    public init(path: String) throws(GGUFError) {
        let mapped: MappedFile
        do {
            mapped = try MappedFile(path: path)
        } catch let error as MappedFileError {
            guard case .cannotOpen(_, let reason) = error else { throw .cannotOpen(file: path, reason: "\(error)") }
            throw .cannotOpen(file: path, reason: reason)
        } catch {
            throw .cannotOpen(file: path, reason: "\(error)")
        }
        self.path = path
        self.mapped = mapped

        var cursor = GGUFCursor(bytes: mapped.bytes, file: path)
        cursor.reading = "the magic number"
        let magicBytes = Array(mapped.bytes.prefix(4))
        guard magicBytes == Array("GGUF".utf8) else {
            if magicBytes.count < 4 { _ = try cursor.take(4) }  // reports the truncation
            throw .badMagic(file: path, found: magicBytes)
        }
        _ = try cursor.take(4)
        cursor.reading = "the version"
        let version = try cursor.scalar(UInt32.self)
        guard version == 2 || version == 3 else { throw .unsupportedVersion(file: path, version: version) }
        self.version = Int(version)

        cursor.reading = "the tensor count"
        let tensorCount = try cursor.count(minimumBytesEach: 8 + 4 + 4 + 8)
        cursor.reading = "the metadata count"
        let keyCount = try cursor.count(minimumBytesEach: 8 + 4 + 1)

        var entries = [(key: String, value: GGUFValue)]()
        entries.reserveCapacity(keyCount)
        for i in 0..<keyCount {
            cursor.reading = "metadata key #\(i)"
            let key = try cursor.string()
            cursor.reading = "the value of metadata key '\(key)'"
            let rawType = try cursor.scalar(UInt32.self)
            guard let type = GGUFValueType(rawValue: rawType) else {
                throw .unknownValueType(file: path, key: key, rawType: rawType)
            }
            entries.append((key, try cursor.value(of: type, key: key, depth: 0)))
        }
        metadata = try GGUFMetadata(file: path, entries: entries)

        if let value = metadata["general.alignment"] {
            guard case .uint32(let a) = value, a != 0, a & (a - 1) == 0 else {
                throw .invalidAlignment(file: path, found: "\(value) (\(value.typeDescription))")
            }
            alignment = Int(a)
        } else {
            alignment = Self.defaultAlignment
        }

        var pending = [(name: String, dimensions: [Int], type: GGMLType, offset: Int)]()
        pending.reserveCapacity(tensorCount)
        for i in 0..<tensorCount {
            cursor.reading = "tensor info #\(i)"
            let name = try cursor.string()
            cursor.reading = "the tensor info of '\(name)'"
            let dimensionCount = try cursor.scalar(UInt32.self)
            guard dimensionCount <= Self.maximumDimensions else {
                throw .invalidDimensions(file: path, tensor: name, dimensions: [],
                                         reason: "\(dimensionCount) dimensions, at most \(Self.maximumDimensions)")
            }
            var raw = [Int64]()
            for _ in 0..<dimensionCount { raw.append(Int64(bitPattern: try cursor.scalar(UInt64.self))) }
            let rawType = try cursor.scalar(UInt32.self)
            let rawOffset = try cursor.scalar(UInt64.self)
            guard let type = GGMLType(rawValue: rawType) else {
                throw .unknownTensorType(file: path, tensor: name, rawType: rawType)
            }
            guard raw.allSatisfy({ $0 >= 0 }) else {
                throw .invalidDimensions(file: path, tensor: name, dimensions: raw, reason: "negative")
            }
            let dimensions = raw.map { Int($0) }
            guard let offset = Int(exactly: rawOffset) else {
                throw .tensorOutOfBounds(file: path, tensor: name, start: Int.max, end: Int.max, fileSize: mapped.bytes.count)
            }
            pending.append((name, dimensions, type, offset))
        }

        // The data section starts at the next multiple of the alignment after the tensor table.
        let tableEnd = cursor.offset
        dataOffset = tableEnd + (alignment - tableEnd % alignment) % alignment

        var tensors = [GGUFTensorInfo]()
        var index = [String: Int](minimumCapacity: pending.count)
        tensors.reserveCapacity(pending.count)
        for entry in pending {
            let info = try Self.validatedTensor(entry.name, entry.dimensions, entry.type, entry.offset,
                                                dataOffset: dataOffset, alignment: alignment,
                                                fileSize: mapped.bytes.count, file: path)
            if index.updateValue(tensors.count, forKey: info.name) != nil {
                throw .duplicateTensor(file: path, tensor: info.name)
            }
            tensors.append(info)
        }
        self.tensors = tensors
        tensorIndex = index
    }

    private static func validatedTensor(
        _ name: String, _ dimensions: [Int], _ type: GGMLType, _ offset: Int,
        dataOffset: Int, alignment: Int, fileSize: Int, file: String
    ) throws(GGUFError) -> GGUFTensorInfo {
        // Every size derived from the dimensions (elements, rows, row length, bytes, bytes per row) is at most
        // the product of all of them, zeros counted as ones, times the bytes of one block: if that product fits
        // in an Int, none of them can overflow later, even for an empty tensor whose other dimensions are huge.
        var largest = type.bytesPerBlock
        for d in dimensions {
            let (product, overflow) = largest.multipliedReportingOverflow(by: max(d, 1))
            guard !overflow else {
                throw .invalidDimensions(file: file, tensor: name, dimensions: dimensions.map { Int64($0) },
                                         reason: "its size in bytes overflows a 64-bit integer")
            }
            largest = product
        }
        let elementCount = dimensions.reduce(1, *)
        let rowLength = dimensions.first ?? 1
        guard rowLength % type.blockSize == 0 else {
            throw .invalidDimensions(file: file, tensor: name, dimensions: dimensions.map { Int64($0) },
                                     reason: "row length \(rowLength) is not a multiple of \(type.name)'s block size \(type.blockSize)")
        }
        let byteCount = type.byteCount(elements: elementCount)  // at most `largest`: checked above
        guard offset % alignment == 0 else {
            throw .misalignedTensor(file: file, tensor: name, offset: offset, alignment: alignment)
        }
        let (start, startOverflow) = dataOffset.addingReportingOverflow(offset)
        let (end, endOverflow) = start.addingReportingOverflow(byteCount)
        guard !startOverflow, !endOverflow, end <= fileSize else {
            throw .tensorOutOfBounds(file: file, tensor: name, start: startOverflow ? Int.max : start,
                                     end: startOverflow || endOverflow ? Int.max : end, fileSize: fileSize)
        }
        return GGUFTensorInfo(name: name, dimensions: dimensions, type: type, offset: offset, fileOffset: start,
                              elementCount: elementCount, byteCount: byteCount)
    }

    /// The table entry for `name`, or nil.
    public func tensorInfo(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The table entry for `name`, or `missingTensor`.
    public func tensor(named name: String) throws(GGUFError) -> GGUFTensorInfo {
        guard let info = tensorInfo(name) else { throw .missingTensor(file: path, tensor: name) }
        return info
    }

    /// The raw bytes of a tensor of this file, in place in the map; valid while this object lives.
    public func data(of tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(tensor.fileOffset >= dataOffset && tensor.byteCount <= mapped.bytes.count - tensor.fileOffset,
                     "tensor '\(tensor.name)' does not belong to \(path)")
        return UnsafeRawBufferPointer(rebasing: mapped.bytes[tensor.fileOffset..<(tensor.fileOffset + tensor.byteCount)])
    }

    /// File size in bytes.
    public var byteCount: Int { mapped.bytes.count }
}

/// Reads little-endian values from the front of the file, checking every read against its end.
struct GGUFCursor {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var offset = 0
    /// What is being read, for truncation errors; set per key and per tensor, not per element.
    var reading = ""

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    var remaining: Int { bytes.count - offset }

    /// Claims the next `count` bytes and returns where they start.
    mutating func take(_ count: Int) throws(GGUFError) -> Int {
        guard count <= remaining else {
            throw .truncated(file: file, reading: reading, offset: offset, needed: count, fileSize: bytes.count)
        }
        defer { offset += count }
        return offset
    }

    mutating func scalar<T: FixedWidthInteger>(_: T.Type) throws(GGUFError) -> T {
        let start = try take(MemoryLayout<T>.size)
        return T(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: T.self))
    }

    /// A uint64 count of items that each occupy at least `minimumBytesEach` bytes; one that could not fit
    /// in the rest of the file is reported as truncation before anything is allocated for it.
    mutating func count(minimumBytesEach: Int) throws(GGUFError) -> Int {
        let start = offset
        let raw = try scalar(UInt64.self)
        let (needed, overflow) = Int(clamping: raw).multipliedReportingOverflow(by: minimumBytesEach)
        guard raw <= UInt64(Int.max), !overflow, needed <= remaining else {
            throw .truncated(file: file, reading: reading + " (\(raw) items)", offset: start + 8,
                             needed: overflow ? Int.max : needed, fileSize: bytes.count)
        }
        return Int(raw)
    }

    mutating func string() throws(GGUFError) -> String {
        let length = try count(minimumBytesEach: 1)
        let start = try take(length)
        // Like ggml, accept any bytes; invalid UTF-8 becomes U+FFFD rather than failing the whole file.
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]), as: UTF8.self)
    }

    mutating func value(of type: GGUFValueType, key: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return .uint8(try scalar(UInt8.self))
        case .int8: return .int8(try scalar(Int8.self))
        case .uint16: return .uint16(try scalar(UInt16.self))
        case .int16: return .int16(try scalar(Int16.self))
        case .uint32: return .uint32(try scalar(UInt32.self))
        case .int32: return .int32(try scalar(Int32.self))
        case .uint64: return .uint64(try scalar(UInt64.self))
        case .int64: return .int64(try scalar(Int64.self))
        case .float32: return .float32(Float(bitPattern: try scalar(UInt32.self)))
        case .float64: return .float64(Double(bitPattern: try scalar(UInt64.self)))
        case .bool: return .bool(try scalar(UInt8.self) != 0)
        case .string: return .string(try string())
        case .array:
            guard depth < GGUFFile.maximumArrayDepth else {
                throw .arrayNestedTooDeeply(file: file, key: key, depth: depth + 1)
            }
            let rawElementType = try scalar(UInt32.self)
            guard let elementType = GGUFValueType(rawValue: rawElementType) else {
                throw .unknownValueType(file: file, key: key, rawType: rawElementType)
            }
            let elementCount = try count(minimumBytesEach: elementType.minimumEncodedSize)
            var values = [GGUFValue]()
            values.reserveCapacity(elementCount)
            for _ in 0..<elementCount { values.append(try value(of: elementType, key: key, depth: depth + 1)) }
            return .array(elementType, values)
        }
    }
}

extension GGUFValueType {
    /// The fewest bytes one value of this type takes in a file (an empty string or array still has a header).
    var minimumEncodedSize: Int {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16: return 2
        case .uint32, .int32, .float32: return 4
        case .uint64, .int64, .float64, .string: return 8
        case .array: return 4 + 8
        }
    }
}
