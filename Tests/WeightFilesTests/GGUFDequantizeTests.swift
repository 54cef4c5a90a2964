// Dequantization against gguf-py's `gguf.quants.dequantize` (fixtures from scripts/make_gguf_reference.py).
//
// Tolerance: exact, bit for bit. Both sides widen the f16 scales exactly, then do the same float32
// multiplies and subtractions in the same order ((d·scale)·q − dmin·min), each correctly rounded, and
// Swift does not contract a·b − c into a fused multiply-add, so there is no rounding to disagree on.
// NaN inputs only need to stay NaN: hardware conversions may quiet a signalling NaN's payload.
import Foundation
import Testing
@testable import WeightFiles

@Suite struct GGUFDequantizeTests {
    static let types: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q5_0, .q8_0, .q4_K, .q5_K, .q6_K, .q8_K]

    func dequantized(_ type: GGMLType, _ blocks: [UInt8], count: Int) throws -> [Float] {
        var output = [Float](repeating: .nan, count: count)
        try blocks.withUnsafeBytes { raw in
            try output.withUnsafeMutableBufferPointer { out in
                try GGUFDequantize.dequantize(type, blocks: raw, into: out, tensor: type.name)
            }
        }
        return output
    }

    func expectIdentical(_ found: [Float], _ expected: [Float], _ what: String) {
        #expect(found.count == expected.count, "\(what): element count")
        var mismatches = 0
        for (i, (f, e)) in zip(found, expected).enumerated() {
            let same = e.isNaN ? f.isNaN : f.bitPattern == e.bitPattern
            if !same {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(what)[\(i)]: found \(f), gguf-py gives \(e)") }
            }
        }
        #expect(mismatches == 0, "\(what): \(mismatches) of \(expected.count) values differ")
    }

    @Test("matches gguf-py on the whole buffer", arguments: types)
    func wholeBuffer(type: GGMLType) throws {
        let (blocks, expected) = try GGUFFixtures.dequantCase(type)
        #expect(blocks.count == type.byteCount(elements: expected.count))
        #expect(expected.count >= 2 * type.blockSize, "the fixture should hold several blocks")
        expectIdentical(try dequantized(type, blocks, count: expected.count), expected, type.name)
    }

    @Test("matches gguf-py block for block", arguments: types)
    func blockForBlock(type: GGMLType) throws {
        let (blocks, expected) = try GGUFFixtures.dequantCase(type)
        let blockCount = expected.count / type.blockSize
        for b in 0..<blockCount {
            let bytes = Array(blocks[(b * type.bytesPerBlock)..<((b + 1) * type.bytesPerBlock)])
            let slice = Array(expected[(b * type.blockSize)..<((b + 1) * type.blockSize)])
            expectIdentical(try dequantized(type, bytes, count: type.blockSize), slice, "\(type.name) block \(b)")
        }
    }

    @Test("the quantized fixtures exercise the scales: values are finite, varied, of both signs")
    func fixturesAreMeaningful() throws {
        for type in Self.types where type.blockSize > 1 {
            let (_, expected) = try GGUFFixtures.dequantCase(type)
            let allFinite = expected.allSatisfy { $0.isFinite }
            #expect(allFinite, "\(type.name)")
            #expect(Set(expected).count > expected.count / 8, "\(type.name)")
            #expect(expected.contains { $0 > 0 } && expected.contains { $0 < 0 }, "\(type.name)")
        }
    }

    @Test("half to float is exact for all 65536 bit patterns")
    func halfToFloatExhaustive() {
        var checked = 0
        for bits in 0...UInt16.max {
            let found = GGUFDequantize.float(half: bits)
            let sign: Float = bits & 0x8000 == 0 ? 1 : -1
            let exponent = Int(bits >> 10) & 0x1F
            let mantissa = Float(bits & 0x3FF)
            // IEEE binary16 by definition, computed in Double (exact for every half).
            let expected: Double
            switch exponent {
            case 0: expected = Double(sign) * Double(mantissa) * 0x1p-24
            case 31: expected = mantissa == 0 ? Double(sign) * .infinity : .nan
            default: expected = Double(sign) * (1 + Double(mantissa) / 1024) * pow(2, Double(exponent - 15))
            }
            if expected.isNaN {
                #expect(found.isNaN, "\(bits)")
            } else {
                #expect(found == Float(expected) && found.sign == Float(expected).sign, "half \(bits)")
            }
            checked += 1
        }
        #expect(checked == 65536)
    }

    @Test("a buffer that is not a whole number of blocks is refused")
    func partialBlock() throws {
        let (blocks, _) = try GGUFFixtures.dequantCase(.q4_K)
        var output = [Float](repeating: 0, count: 255)
        let error = #expect(throws: GGUFError.self) {
            try blocks.withUnsafeBytes { raw in
                try output.withUnsafeMutableBufferPointer { out in
                    try GGUFDequantize.dequantize(.q4_K, blocks: UnsafeRawBufferPointer(rebasing: raw[0..<144]), into: out)
                }
            }
        }
        guard case .rowNotMultipleOfBlock(_, .q4_K, 255, 256) = error else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
    }

    @Test("a byte count that does not match the element count is refused")
    func wrongByteCount() throws {
        let (blocks, _) = try GGUFFixtures.dequantCase(.q8_0)
        var output = [Float](repeating: 0, count: 64)
        let error = #expect(throws: GGUFError.self) {
            try blocks.withUnsafeBytes { raw in
                try output.withUnsafeMutableBufferPointer { out in
                    try GGUFDequantize.dequantize(.q8_0, blocks: UnsafeRawBufferPointer(rebasing: raw[0..<60]), into: out)
                }
            }
        }
        #expect(error == .wrongByteCount(tensor: "<raw blocks>", type: .q8_0, expected: 68, found: 60))
        #expect(error?.description.contains("68") == true)
    }

    @Test("types without a dequantizer are refused by name")
    func unsupportedType() {
        var output = [Float](repeating: 0, count: 256)
        let blocks = [UInt8](repeating: 0, count: GGMLType.q2_K.bytesPerBlock)
        let error = #expect(throws: GGUFError.self) {
            try blocks.withUnsafeBytes { raw in
                try output.withUnsafeMutableBufferPointer { out in
                    try GGUFDequantize.dequantize(.q2_K, blocks: raw, into: out, tensor: "w")
                }
            }
        }
        #expect(error == .unsupportedDequantization(tensor: "w", type: .q2_K))
        #expect(error?.description.contains("Q2_K") == true)
    }
}
