// GGUF metadata: typed values and a key-value table with accessors that throw naming the key.
// Value types and their numbering follow the GGUF specification (ggml docs/gguf.md, `gguf_type`).

public enum GGUFValueType: UInt32, Sendable, CustomStringConvertible {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12

    public var description: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }
}

public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    /// The element type is kept so that an empty array still says what it holds.
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .uint64: return .uint64
        case .int64: return .int64
        case .float32: return .float32
        case .float64: return .float64
        case .bool: return .bool
        case .string: return .string
        case .array: return .array
        }
    }

    /// "uint32", "array of string", ... for error messages.
    public var typeDescription: String {
        if case .array(let elementType, _) = self { return "array of \(elementType)" }
        return type.description
    }

    /// Any integer type whose value fits in `Int`.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(exactly: v)
        default: return nil
        }
    }

    /// float32, float64 (rounded to float32), or an integer (a config may store 10000 as an int).
    public var floatValue: Float? {
        switch self {
        case .float32(let v): return v
        case .float64(let v): return Float(v)
        default: return intValue.map { Float($0) }
        }
    }

    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map { Double($0) }
        }
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var stringValue: String? {
        if case .string(let v) = self { return v }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(_, let values) = self { return values }
        return nil
    }

    public var stringArray: [String]? {
        guard case .array(.string, let values) = self else { return nil }
        return values.map { value -> String in
            guard case .string(let s) = value else { preconditionFailure("array of string holds \(value.type)") }
            return s
        }
    }

    /// An array of any integer type whose elements all fit in `Int`.
    public var intArray: [Int]? {
        guard case .array(let elementType, let values) = self, elementType.isInteger else { return nil }
        var result = [Int]()
        result.reserveCapacity(values.count)
        for value in values {
            guard let v = value.intValue else { return nil }
            result.append(v)
        }
        return result
    }

    /// An array of float32 or float64 (rounded to float32).
    public var floatArray: [Float]? {
        guard case .array(let elementType, let values) = self,
              elementType == .float32 || elementType == .float64 else { return nil }
        return values.map { $0.floatValue! }
    }
}

extension GGUFValueType {
    var isInteger: Bool {
        switch self {
        case .uint8, .int8, .uint16, .int16, .uint32, .int32, .uint64, .int64: return true
        default: return false
        }
    }
}

/// The metadata of one GGUF file, in file order, with lookups by key.
public struct GGUFMetadata: Sendable {
    /// The file the metadata came from, for error messages.
    public let file: String
    /// Every key-value pair, in the order the file lists them.
    public let entries: [(key: String, value: GGUFValue)]
    private let indexByKey: [String: Int]

    init(file: String, entries: [(key: String, value: GGUFValue)]) throws(GGUFError) {
        var index = [String: Int](minimumCapacity: entries.count)
        for (i, entry) in entries.enumerated() {
            if index.updateValue(i, forKey: entry.key) != nil { throw .duplicateKey(file: file, key: entry.key) }
        }
        self.file = file
        self.entries = entries
        self.indexByKey = index
    }

    public var keys: [String] { entries.map(\.key) }
    public var count: Int { entries.count }

    public subscript(key: String) -> GGUFValue? {
        indexByKey[key].map { entries[$0].value }
    }

    public func contains(_ key: String) -> Bool { indexByKey[key] != nil }

    /// The value for `key`, or `missingKey`.
    public func value(_ key: String) throws(GGUFError) -> GGUFValue {
        guard let value = self[key] else { throw .missingKey(file: file, key: key) }
        return value
    }

    /// Any integer type; throws if missing, not an integer, or beyond `Int`.
    public func int(_ key: String) throws(GGUFError) -> Int {
        let found = try value(key)
        if let v = found.intValue { return v }
        if found.type.isInteger {
            throw .valueOutOfRange(file: file, key: key, value: "\(found)", expected: "a value that fits in Int")
        }
        throw .wrongValueType(file: file, key: key, expected: "an integer", found: found.typeDescription)
    }

    public func float(_ key: String) throws(GGUFError) -> Float {
        let found = try value(key)
        guard let v = found.floatValue else {
            throw .wrongValueType(file: file, key: key, expected: "a number", found: found.typeDescription)
        }
        return v
    }

    public func double(_ key: String) throws(GGUFError) -> Double {
        let found = try value(key)
        guard let v = found.doubleValue else {
            throw .wrongValueType(file: file, key: key, expected: "a number", found: found.typeDescription)
        }
        return v
    }

    public func bool(_ key: String) throws(GGUFError) -> Bool {
        let found = try value(key)
        guard let v = found.boolValue else {
            throw .wrongValueType(file: file, key: key, expected: "bool", found: found.typeDescription)
        }
        return v
    }

    public func string(_ key: String) throws(GGUFError) -> String {
        let found = try value(key)
        guard let v = found.stringValue else {
            throw .wrongValueType(file: file, key: key, expected: "string", found: found.typeDescription)
        }
        return v
    }

    public func stringArray(_ key: String) throws(GGUFError) -> [String] {
        let found = try value(key)
        guard let v = found.stringArray else {
            throw .wrongValueType(file: file, key: key, expected: "array of string", found: found.typeDescription)
        }
        return v
    }

    public func intArray(_ key: String) throws(GGUFError) -> [Int] {
        let found = try value(key)
        if let v = found.intArray { return v }
        if case .array(let elementType, _) = found, elementType.isInteger {
            throw .valueOutOfRange(file: file, key: key, value: "an element", expected: "elements that fit in Int")
        }
        throw .wrongValueType(file: file, key: key, expected: "array of integers", found: found.typeDescription)
    }

    public func floatArray(_ key: String) throws(GGUFError) -> [Float] {
        let found = try value(key)
        guard let v = found.floatArray else {
            throw .wrongValueType(file: file, key: key, expected: "array of float32", found: found.typeDescription)
        }
        return v
    }
}
