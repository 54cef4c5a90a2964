// Sizes computed from a weight file's dimensions are checked before anything is allocated or indexed: a
// shape near 2^62 is refused with the tensor's name instead of overflowing an Int or asking for exabytes.
import Foundation
import Testing
@testable import WeightFiles

@Suite struct GGUFSizeOverflowTests {
    let original: [UInt8]

    init() throws {
        original = try GGUFFixtures.bytes("tiny.gguf")
    }

    /// Offset of the first dimension in the tensor info of `name` (after its name and n_dims).
    func firstDimension(_ name: String) throws -> Int {
        let afterKeys = try #require(original.firstOffset(of: "test.block_count"))
        return try #require(original.firstOffset(of: name, from: afterKeys)) + name.utf8.count + 4
    }

    func expectOverflow(_ bytes: [UInt8], tensor: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try GGUFFixtures.openingError(bytes)
        guard case .invalidDimensions(_, tensor, _, let reason)? = error else {
            Issue.record("unexpected \(String(describing: error))", sourceLocation: sourceLocation)
            return
        }
        #expect(reason.contains("overflows"), sourceLocation: sourceLocation)
        #expect(error!.description.contains("'\(tensor)'"), sourceLocation: sourceLocation)
    }

    @Test("a dimension near 2^62 is refused: its byte count would overflow")
    func dimensionNear2To62() throws {
        var bytes = original
        // f16.vector: 2^62 elements fit in an Int, their 2^63 bytes do not.
        bytes.storeLittleEndian(UInt64(1) << 62, at: try firstDimension("f16.vector"))
        try expectOverflow(bytes, tensor: "f16.vector")
    }

    @Test("an empty tensor's other dimensions are bounded too")
    func emptyTensorWithHugeRows() throws {
        var bytes = original
        // f32.matrix [3, 2] → [2^62, 0]: no elements, but a row length whose bytes overflow.
        let first = try firstDimension("f32.matrix")
        bytes.storeLittleEndian(UInt64(1) << 62, at: first)
        bytes.storeLittleEndian(UInt64(0), at: first + 8)
        try expectOverflow(bytes, tensor: "f32.matrix")
    }

    @Test("the dequantizer checks the byte count of the buffer it is given")
    func dequantizerChecksItsBuffer() throws {
        let blocks = [UInt8](repeating: 0, count: 16)
        let output = UnsafeMutablePointer<Float>.allocate(capacity: 1)
        defer { output.deallocate() }
        // A count no allocation could have; it is compared, never used.
        let huge = UnsafeMutableBufferPointer(start: output, count: 1 << 62)
        #expect(throws: GGUFError.wrongByteCount(tensor: "t", type: .f32, expected: Int.max, found: 16)) {
            try blocks.withUnsafeBytes { try GGUFDequantize.dequantize(.f32, blocks: $0, into: huge, tensor: "t") }
        }
    }
}

@Suite struct SafetensorsSizeTests {
    /// A safetensors file with one tensor `x` described by `entry` (JSON) over `dataBytes` zero bytes.
    func file(_ entry: String, dataBytes: Int) throws -> URL {
        let header = Array(#"{"x": \#(entry)}"#.utf8)
        var bytes = [UInt8]()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes += $0 }
        bytes += header + [UInt8](repeating: 0, count: dataBytes)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-st-\(UUID().uuidString).safetensors")
        try Data(bytes).write(to: url)
        return url
    }

    func openingError(_ entry: String, dataBytes: Int = 16) throws -> String? {
        let url = try file(entry, dataBytes: dataBytes)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try SafetensorsFile(path: url.path)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("a shape near 2^62 is refused, naming the tensor")
    func shapeNear2To62() throws {
        let message = try openingError(#"{"dtype": "F32", "shape": [4611686018427387904, 4], "data_offsets": [0, 16]}"#)
        #expect(message?.contains("'x'") == true && message?.contains("overflows") == true)
        // 2^61 F32 elements: the count fits, the bytes do not.
        let bytes = try openingError(#"{"dtype": "F32", "shape": [2305843009213693952], "data_offsets": [0, 16]}"#)
        #expect(bytes?.contains("overflows") == true)
    }

    @Test("negative dimensions are refused, even when their product looks right")
    func negativeDimensions() throws {
        let message = try openingError(#"{"dtype": "F32", "shape": [-1, -4], "data_offsets": [0, 16]}"#)
        #expect(message?.contains("negative") == true)
    }

    @Test("a tensor of another dtype is not allocated as floats")
    func otherDTypeIsNotAllocated() throws {
        // An unknown dtype's byte count cannot be checked, so its 2^40 elements must never size an array.
        let url = try file(#"{"dtype": "I4", "shape": [1099511627776], "data_offsets": [0, 16]}"#, dataBytes: 16)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafetensorsFile(path: url.path)
        #expect(throws: SafetensorsError.self) { try file.floats("x") }
    }

    @Test("a well-formed tensor still reads")
    func valid() throws {
        let url = try file(#"{"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]}"#, dataBytes: 16)
        defer { try? FileManager.default.removeItem(at: url) }
        let file = try SafetensorsFile(path: url.path)
        #expect(file.entries["x"]?.elementCount == 4)
        #expect(try file.floats("x") == [0, 0, 0, 0])
    }
}
