// The GGUF reader on small files written by gguf-py's GGUFWriter, and on corrupt copies of them.
// Float comparisons are exact: values pass through unchanged (metadata) or are dequantized bit-exactly
// (see GGUFDequantizeTests); the JSON holds each float32 as its exact double.
import Foundation
import Testing
@testable import WeightFiles

@Suite struct GGUFReaderTests {
    let tiny: GGUFFile

    init() throws {
        tiny = try GGUFFile(path: GGUFFixtures.url("tiny.gguf").path)
    }

    @Test("header: version 3, counts, default alignment")
    func header() {
        #expect(tiny.version == 3)
        #expect(tiny.metadata.count == 20)
        #expect(tiny.tensors.count == 7)
        #expect(tiny.alignment == 32)
        #expect(tiny.dataOffset % 32 == 0)
    }

    @Test("metadata of every value type, in file order")
    func everyValueType() throws {
        let m = tiny.metadata
        #expect(m.keys.first == "general.architecture")
        #expect(try m.string("general.architecture") == "test")
        #expect(m["test.uint8"] == .uint8(200))
        #expect(m["test.int8"] == .int8(-100))
        #expect(m["test.uint16"] == .uint16(60000))
        #expect(m["test.int16"] == .int16(-30000))
        #expect(m["test.uint32"] == .uint32(4_000_000_000))
        #expect(m["test.int32"] == .int32(-2_000_000_000))
        #expect(m["test.uint64"] == .uint64(UInt64.max))
        #expect(m["test.int64"] == .int64(-(1 << 62)))
        #expect(m["test.float32"] == .float32(0.15625))
        #expect(m["test.float64"] == .float64(3.141592653589793))
        #expect(m["test.bool"] == .bool(true))
        #expect(m["test.string"] == .string("héllo ✓"))
        #expect(m["test.strings"] == .array(.string, ["a", "", "ß", "<0x0A>", "▁the"].map(GGUFValue.string)))
        #expect(m["test.int32s"] == .array(.int32, [.int32(1), .int32(-2), .int32(3)]))
        #expect(m["test.uint8s"] == .array(.uint8, [.uint8(0), .uint8(255)]))
        #expect(m["test.float32s"] == .array(.float32, [.float32(0.5), .float32(-1.25), .float32(1e-6)]))
        #expect(m["test.bools"] == .array(.bool, [.bool(true), .bool(false), .bool(true)]))
        #expect(m["test.nested"] == .array(.array, [.array(.int32, [.int32(1), .int32(2)]), .array(.int32, [.int32(3)])]))
        #expect(m["test.nested"]?.typeDescription == "array of array")
    }

    @Test("typed accessors convert what they can")
    func typedAccessors() throws {
        let m = tiny.metadata
        #expect(try m.int("test.block_count") == 2)
        #expect(try m.int("test.uint8") == 200)
        #expect(try m.int("test.int64") == -(1 << 62))
        #expect(try m.int("test.uint32") == 4_000_000_000)
        #expect(try m.float("test.float32") == 0.15625)
        #expect(try m.float("test.float64") == Float(3.141592653589793))
        #expect(try m.double("test.float64") == 3.141592653589793)
        #expect(try m.float("test.block_count") == 2)
        #expect(try m.bool("test.bool"))
        #expect(try m.string("test.string") == "héllo ✓")
        #expect(try m.stringArray("test.strings") == ["a", "", "ß", "<0x0A>", "▁the"])
        #expect(try m.intArray("test.int32s") == [1, -2, 3])
        #expect(try m.intArray("test.uint8s") == [0, 255])
        #expect(try m.floatArray("test.float32s") == [0.5, -1.25, 1e-6])
        #expect(m.contains("test.bool") && !m.contains("test.absent"))
    }

    @Test("accessors name the key and say what they expected and found")
    func accessorErrors() {
        let m = tiny.metadata
        let file = tiny.path
        #expect(throws: GGUFError.missingKey(file: file, key: "gemma3.block_count")) { try m.int("gemma3.block_count") }
        #expect(throws: GGUFError.wrongValueType(file: file, key: "test.string", expected: "an integer", found: "string")) {
            try m.int("test.string")
        }
        #expect(throws: GGUFError.wrongValueType(file: file, key: "test.int32s", expected: "array of string",
                                                 found: "array of int32")) { try m.stringArray("test.int32s") }
        #expect(throws: GGUFError.wrongValueType(file: file, key: "test.strings", expected: "array of float32",
                                                 found: "array of string")) { try m.floatArray("test.strings") }
        #expect(throws: GGUFError.wrongValueType(file: file, key: "test.uint8", expected: "bool", found: "uint8")) {
            try m.bool("test.uint8")
        }
        #expect(throws: GGUFError.wrongValueType(file: file, key: "test.bool", expected: "a number", found: "bool")) {
            try m.float("test.bool")
        }
        let tooBig = #expect(throws: GGUFError.self) { try m.int("test.uint64") }
        guard case .valueOutOfRange(_, "test.uint64", _, _) = tooBig else {
            Issue.record("expected valueOutOfRange, got \(String(describing: tooBig))")
            return
        }
        let message = GGUFError.missingKey(file: file, key: "gemma3.block_count").description
        #expect(message.contains("gemma3.block_count") && message.contains("tiny.gguf") && message.contains("missing"))
    }

    @Test("tensor table and values match gguf-py's reader", arguments: ["tiny.gguf", "tiny-align64.gguf"])
    func tensorTable(fileName: String) throws {
        let manifest = try #require(try GGUFFixtures.tinyManifest().first { $0.file == fileName })
        let file = try GGUFFile(path: GGUFFixtures.url(fileName).path)
        #expect(file.alignment == manifest.alignment)
        #expect(file.tensors.map(\.name) == manifest.tensors.map(\.name))
        for expected in manifest.tensors {
            let info = try file.tensor(named: expected.name)
            #expect(info.dimensions == expected.dimensions, "\(expected.name)")
            #expect(info.shape == expected.dimensions.reversed(), "\(expected.name)")
            #expect(info.type.name == expected.type, "\(expected.name)")
            #expect(info.fileOffset == expected.fileOffset, "\(expected.name)")
            #expect(info.fileOffset % file.alignment == 0, "\(expected.name)")
            #expect(info.byteCount == expected.byteCount, "\(expected.name)")
            #expect(info.elementCount == expected.values.count, "\(expected.name)")
            let values = try file.dequantize(info)
            #expect(values == expected.values.map { Float($0) }, "\(expected.name)")
        }
    }

    @Test("rows, shapes and the row-wise dequantizer")
    func rows() throws {
        let cube = try tiny.tensor(named: "q4_0.cube")
        #expect(cube.dimensions == [32, 2, 2])
        #expect(cube.rowLength == 32 && cube.rowCount == 4 && cube.bytesPerRow == 18)
        let all = try tiny.dequantize(cube)
        for row in 0..<4 {
            #expect(try tiny.dequantizeRows(cube, rows: row..<(row + 1)) == Array(all[(32 * row)..<(32 * row + 32)]))
        }
        #expect(try tiny.dequantizeRows(cube, rows: 1..<3) == Array(all[32..<96]))
        #expect(try tiny.dequantizeRows(cube, rows: 2..<2) == [])
        #expect(throws: GGUFError.rowsOutOfRange(tensor: "q4_0.cube", rows: 3..<5, rowCount: 4)) {
            try tiny.dequantizeRows(cube, rows: 3..<5)
        }
        var small = [Float](repeating: 0, count: 10)
        #expect(throws: GGUFError.wrongElementCount(tensor: "q4_0.cube", expected: 128, found: 10)) {
            try small.withUnsafeMutableBufferPointer { try tiny.dequantize(cube, into: $0) }
        }
        let vector = try tiny.tensor(named: "f16.vector")
        #expect(vector.rowCount == 1 && vector.rowLength == 4)
    }

    @Test("a missing tensor is named")
    func missingTensor() {
        #expect(tiny.tensorInfo("output.weight") == nil)
        #expect(throws: GGUFError.missingTensor(file: tiny.path, tensor: "output.weight")) {
            try tiny.tensor(named: "output.weight")
        }
    }

    @Test("tensor bytes are the file's bytes in place")
    func rawData() throws {
        let bytes = try GGUFFixtures.bytes("tiny.gguf")
        let info = try tiny.tensor(named: "q6_k.rows")
        let data = tiny.data(of: info)
        #expect(data.count == 420)
        #expect(Array(data) == Array(bytes[info.fileOffset..<(info.fileOffset + 420)]))
    }
}

@Suite struct GGUFCorruptFileTests {
    let original: [UInt8]

    init() throws {
        original = try GGUFFixtures.bytes("tiny.gguf")
    }

    @Test("a missing file cannot be opened, and says why")
    func missingFile() {
        let error = #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        guard case .cannotOpen(let file, let reason) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(file == "/nonexistent/model.gguf" && !reason.isEmpty)
    }

    @Test("bad magic")
    func badMagic() throws {
        var bytes = original
        bytes[0...3] = [0x89, 0x50, 0x4E, 0x47]  // a PNG
        let error = try GGUFFixtures.openingError(bytes)
        guard case .badMagic(_, let found) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(found == [0x89, 0x50, 0x4E, 0x47])
        #expect(error?.description.contains("not a GGUF file") == true)
    }

    @Test("unsupported versions", arguments: [UInt32(1), 4, 0x0300_0000])
    func unsupportedVersion(version: UInt32) throws {
        var bytes = original
        bytes.storeLittleEndian(version, at: 4)
        let error = try GGUFFixtures.openingError(bytes)
        guard case .unsupportedVersion(_, version) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        if version == 0x0300_0000 { #expect(error?.description.contains("big-endian") == true) }
    }

    @Test("version 2 has the same layout and is read")
    func version2() throws {
        var bytes = original
        bytes.storeLittleEndian(UInt32(2), at: 4)
        #expect(try GGUFFixtures.openingError(bytes) == nil)
    }

    @Test("every truncation is reported, none crashes")
    func everyTruncation() throws {
        let file = try GGUFFile(path: GGUFFixtures.url("tiny.gguf").path)
        let dataStart = file.dataOffset
        // The writer pads the file after the last tensor; cutting only that padding loses nothing.
        let dataEnd = file.tensors.map { $0.fileOffset + $0.byteCount }.max()!
        #expect(dataEnd < original.count)
        for length in 0..<original.count {
            let error = try GGUFFixtures.openingError(Array(original[0..<length]))
            switch error {
            case nil:
                #expect(length >= dataEnd, "length \(length) opened without error")
            case .truncated(_, let reading, _, _, _)?:
                #expect(length < dataStart, "length \(length): \(reading)")
            case .tensorOutOfBounds?:
                #expect(length >= dataStart - 32, "length \(length)")  // the padding before the data may be cut too
            default:
                Issue.record("length \(length): expected truncation, got \(String(describing: error))")
            }
        }
    }

    @Test("truncation messages say what was being read")
    func truncationMessage() throws {
        let keyStart = try #require(original.firstOffset(of: "test.string"))
        let error = try GGUFFixtures.openingError(Array(original[0..<(keyStart + 20)]))
        guard case .truncated(_, let reading, _, _, let fileSize)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(reading == "the value of metadata key 'test.string'")
        #expect(fileSize == keyStart + 20)
    }

    @Test("unknown metadata value type names the key")
    func unknownValueType() throws {
        var bytes = original
        let key = try #require(bytes.firstOffset(of: "test.uint16"))
        bytes.storeLittleEndian(UInt32(99), at: key + "test.uint16".utf8.count)
        let error = try GGUFFixtures.openingError(bytes)
        guard case .unknownValueType(_, "test.uint16", 99)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(error?.description.contains("'test.uint16'") == true)
    }

    @Test("an absurd array length is truncation, not an allocation")
    func hugeArrayLength() throws {
        var bytes = original
        let key = try #require(bytes.firstOffset(of: "test.strings"))
        // key, then value type (u32), element type (u32), element count (u64)
        bytes.storeLittleEndian(UInt64.max / 2, at: key + "test.strings".utf8.count + 8)
        let error = try GGUFFixtures.openingError(bytes)
        guard case .truncated(_, let reading, _, _, _)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(reading.contains("test.strings"))
    }

    @Test("deeply nested arrays are refused")
    func deepNesting() throws {
        var bytes = original
        let key = try #require(bytes.firstOffset(of: "test.nested"))
        // Make the inner arrays claim to hold arrays too: [[[...]]] until the depth limit or truncation.
        bytes.storeLittleEndian(UInt32(9), at: key + "test.nested".utf8.count + 4 + 4 + 8)
        let error = try GGUFFixtures.openingError(bytes)
        #expect(error != nil)
    }

    @Test("duplicate metadata keys are refused")
    func duplicateKey() throws {
        var bytes = original
        let key = try #require(bytes.firstOffset(of: "test.int16"))
        bytes.replaceSubrange(key..<(key + 10), with: Array("test.int32".utf8))
        let error = try GGUFFixtures.openingError(bytes)
        guard case .duplicateKey(_, "test.int32")? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    /// Offset of the type field in the tensor info of `name` (after its name, n_dims and dims).
    func tensorTypeOffset(_ bytes: [UInt8], _ name: String) throws -> Int {
        let afterKeys = try #require(bytes.firstOffset(of: "test.block_count"))
        let start = try #require(bytes.firstOffset(of: name, from: afterKeys)) + name.utf8.count
        let dimensionCount = Int(bytes[start])
        return start + 4 + 8 * dimensionCount
    }

    @Test("unknown tensor type names the tensor")
    func unknownTensorType() throws {
        var bytes = original
        bytes.storeLittleEndian(UInt32(77), at: try tensorTypeOffset(bytes, "q8_0.matrix"))
        let error = try GGUFFixtures.openingError(bytes)
        guard case .unknownTensorType(_, "q8_0.matrix", 77)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test("a tensor whose rows are not whole blocks is refused")
    func rowNotWholeBlocks() throws {
        var bytes = original
        // Call the 6-element f32 matrix Q8_0: its 3-element rows cannot be 32-element blocks.
        bytes.storeLittleEndian(GGMLType.q8_0.rawValue, at: try tensorTypeOffset(bytes, "f32.matrix"))
        let error = try GGUFFixtures.openingError(bytes)
        guard case .invalidDimensions(_, "f32.matrix", [3, 2], _)? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test("data offsets: misaligned, past the end, overflowing")
    func badOffsets() throws {
        let offsetField = try tensorTypeOffset(original, "bf16.matrix") + 4
        for (offset, expectMisaligned) in [(UInt64(3), true), (UInt64(1 << 20), false), (UInt64.max - 31, false)] {
            var bytes = original
            bytes.storeLittleEndian(offset, at: offsetField)
            let error = try GGUFFixtures.openingError(bytes)
            switch error {
            case .misalignedTensor(_, "bf16.matrix", 3, 32)?: #expect(expectMisaligned)
            case .tensorOutOfBounds(_, "bf16.matrix", _, _, let size)?:
                #expect(!expectMisaligned && size == original.count)
            default: Issue.record("offset \(offset): unexpected \(String(describing: error))")
            }
        }
    }

    @Test("too many dimensions and negative dimensions are refused")
    func badDimensions() throws {
        let afterKeys = try #require(original.firstOffset(of: "test.block_count"))
        let nameEnd = try #require(original.firstOffset(of: "f16.vector", from: afterKeys)) + "f16.vector".utf8.count
        var many = original
        many.storeLittleEndian(UInt32(5), at: nameEnd)
        guard case .invalidDimensions(_, "f16.vector", _, _)? = try GGUFFixtures.openingError(many) else {
            Issue.record("5 dimensions should be refused")
            return
        }
        var negative = original
        negative.storeLittleEndian(UInt64.max, at: nameEnd + 4)
        guard case .invalidDimensions(_, "f16.vector", [-1], "negative")? = try GGUFFixtures.openingError(negative) else {
            Issue.record("a negative dimension should be refused")
            return
        }
    }

    @Test("general.alignment must be a power of two")
    func badAlignment() throws {
        var bytes = try GGUFFixtures.bytes("tiny-align64.gguf")
        let key = try #require(bytes.firstOffset(of: "general.alignment"))
        bytes.storeLittleEndian(UInt32(48), at: key + "general.alignment".utf8.count + 4)
        let error = try GGUFFixtures.openingError(bytes)
        guard case .invalidAlignment? = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test("random corruption of the header never crashes")
    func randomCorruption() throws {
        var generator = CorruptionRandom(seed: 7)
        let headerEnd = try GGUFFile(path: GGUFFixtures.url("tiny.gguf").path).dataOffset
        var refused = 0
        for _ in 0..<300 {
            var bytes = original
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                bytes[Int(generator.next() % UInt64(headerEnd))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if try GGUFFixtures.openingError(bytes) != nil { refused += 1 }
        }
        #expect(refused > 0)  // most byte flips land in string contents and are harmless; some must not be
    }
}

/// A small deterministic generator so the corruption test is reproducible.
private struct CorruptionRandom: RandomNumberGenerator {  // SplitMix64
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
