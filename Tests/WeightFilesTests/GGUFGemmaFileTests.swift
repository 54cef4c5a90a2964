// The GGUF reader on the real Gemma 3 270M Q4_K_M file, against gguf-py's reading of it
// (Fixtures/gemma-3-270m-q4_k_m.json, written by scripts/inspect_gguf.py --write-fixture).
//
// Needs the 253 MB model, found in one place: $LEGIBLE_GEMMA_GGUF, else
// models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf under the package root (scripts/fetch-model gemma-3-270m).
// Skipped when absent. Dequantized values must match bit for bit (hash and first values); the sums only
// differ by summation order, so they get a relative tolerance of 1e-9 in Double.
import Foundation
import Testing
@testable import WeightFiles

enum GemmaGGUF {
    static let environmentVariable = "LEGIBLE_GEMMA_GGUF"

    static var path: String? {
        if let path = ProcessInfo.processInfo.environment[environmentVariable], !path.isEmpty {
            return FileManager.default.fileExists(atPath: path) ? path : nil
        }
        let packageRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let path = packageRoot.appendingPathComponent("models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    struct Reference: Decodable {
        struct Entry: Decodable {
            let type: String
            let value: Scalar?
            let count: Int?
            let first: [Scalar]?
            let fnv1a: String?
        }
        struct Tensor: Decodable {
            let name: String
            let dimensions: [Int]
            let type: String
            let fileOffset: Int
            let byteCount: Int
        }
        struct Sample: Decodable {
            let name: String
            let rows: [Int]
            let sum: Double
            let sumOfSquares: Double
            let fnv1a: String
            let first: [Double]
        }
        let byteCount: Int
        let alignment: Int
        let dataOffset: Int
        let metadata: [String: Entry]
        let tensors: [Tensor]
        let samples: [Sample]
    }

    enum Scalar: Decodable, CustomStringConvertible {
        case bool(Bool), int(Int), double(Double), string(String)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            // Numbers first: some decoders would read 1 as `true`.
            if let v = try? c.decode(Int.self) { self = .int(v) }
            else if let v = try? c.decode(Double.self) { self = .double(v) }
            else if let v = try? c.decode(Bool.self) { self = .bool(v) }
            else { self = .string(try c.decode(String.self)) }
        }
        var description: String {
            switch self {
            case .bool(let v): return "\(v)"
            case .int(let v): return "\(v)"
            case .double(let v): return "\(v)"
            case .string(let v): return v
            }
        }
        /// Whether a GGUF value read by Swift equals what gguf-py reported.
        func matches(_ value: GGUFValue) -> Bool {
            switch self {
            case .bool(let v): return value.boolValue == v
            case .int(let v): return value.intValue == v || (value.intValue == nil && value.floatValue == Float(v))
            case .double(let v): return value.floatValue == Float(v)
            case .string(let v): return value.stringValue == v
            }
        }
    }

    /// Opened once for the whole suite: parsing 262k tokens per test would only repeat work.
    static let opened = Result { () throws(GGUFError) -> GGUFFile in try GGUFFile(path: path ?? "") }

    static func reference() throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: GGUFFixtures.url("gemma-3-270m-q4_k_m.json")))
    }

    /// 64-bit FNV-1a, as scripts/inspect_gguf.py computes it.
    static func fnv1a<S: Sequence>(_ bytes: S, into hash: inout UInt64) where S.Element == UInt8 {
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
    }
    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
}

@Suite(.enabled(if: GemmaGGUF.path != nil,
                "needs models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf or $LEGIBLE_GEMMA_GGUF (scripts/fetch-model gemma-3-270m)"))
struct GGUFGemmaFileTests {
    let file: GGUFFile
    let reference: GemmaGGUF.Reference

    init() throws {
        file = try GemmaGGUF.opened.get()
        reference = try GemmaGGUF.reference()
    }

    @Test("header and layout match gguf-py")
    func layout() {
        #expect(file.version == 3)
        #expect(file.byteCount == reference.byteCount)
        #expect(file.alignment == reference.alignment)
        #expect(file.dataOffset == reference.dataOffset)
    }

    @Test("every metadata key, type and value matches gguf-py")
    func metadata() throws {
        #expect(Set(file.metadata.keys) == Set(reference.metadata.keys))
        for (key, expected) in reference.metadata {
            let value = try file.metadata.value(key)
            #expect(value.typeDescription == expected.type, "\(key)")
            if let scalar = expected.value {
                #expect(scalar.matches(value), "\(key): \(value) vs \(scalar)")
            }
            if let count = expected.count {
                let elements = try #require(value.arrayValue, "\(key)")
                #expect(elements.count == count, "\(key)")
                for (element, scalar) in zip(elements, expected.first ?? []) {
                    #expect(scalar.matches(element), "\(key): \(element) vs \(scalar)")
                }
            }
            if let hash = expected.fnv1a {
                var h = GemmaGGUF.fnvOffset
                for token in try file.metadata.stringArray(key) {
                    GemmaGGUF.fnv1a(token.utf8, into: &h)
                    GemmaGGUF.fnv1a(CollectionOfOne(0), into: &h)
                }
                #expect(String(h, radix: 16).leftPadded(to: 16) == hash, "\(key): every string")
            }
        }
    }

    @Test("the accessors a Gemma 3 loader uses")
    func gemmaAccessors() throws {
        let m = file.metadata
        #expect(try m.string("general.architecture") == "gemma3")
        #expect(try m.int("gemma3.block_count") == 18)
        #expect(try m.int("gemma3.embedding_length") == 640)
        #expect(try m.int("gemma3.attention.head_count_kv") == 1)
        #expect(try m.float("gemma3.rope.freq_base") == 1_000_000)
        #expect(try m.float("gemma3.attention.layer_norm_rms_epsilon") == 1e-6)
        #expect(try m.stringArray("tokenizer.ggml.tokens").count == 262_144)
        #expect(try m.floatArray("tokenizer.ggml.scores").count == 262_144)
        #expect(try m.intArray("tokenizer.ggml.token_type").count == 262_144)
    }

    @Test("tensor table matches gguf-py: names, dimensions, types, offsets")
    func tensorTable() {
        #expect(file.tensors.count == reference.tensors.count)
        #expect(file.tensors.map(\.name) == reference.tensors.map(\.name))
        for (info, expected) in zip(file.tensors, reference.tensors) {
            #expect(info.dimensions == expected.dimensions, "\(expected.name)")
            #expect(info.type.name == expected.type, "\(expected.name)")
            #expect(info.fileOffset == expected.fileOffset, "\(expected.name)")
            #expect(info.byteCount == expected.byteCount, "\(expected.name)")
        }
        #expect(file.tensorInfo("output.weight") == nil, "Gemma ties the output head to token_embd")
    }

    @Test("dequantized tensors match gguf.quants.dequantize bit for bit")
    func samples() throws {
        #expect(reference.samples.count >= 4)
        for sample in reference.samples {
            let info = try file.tensor(named: sample.name)
            let values = try file.dequantizeRows(info, rows: sample.rows[0]..<sample.rows[1])
            var hash = GemmaGGUF.fnvOffset
            values.withUnsafeBytes { GemmaGGUF.fnv1a($0, into: &hash) }
            let what = "\(sample.name) rows \(sample.rows) (\(info.type.name))"
            #expect(String(hash, radix: 16).leftPadded(to: 16) == sample.fnv1a, "\(what): hash of every value")
            #expect(Array(values.prefix(64)) == sample.first.map { Float($0) }, "\(what): first values")
            let sum = values.reduce(0.0) { $0 + Double($1) }
            let sumOfSquares = values.reduce(0.0) { $0 + Double($1) * Double($1) }
            #expect(abs(sum - sample.sum) <= 1e-9 * max(1, abs(sample.sum)), "\(what): sum")
            #expect(abs(sumOfSquares - sample.sumOfSquares) <= 1e-9 * sample.sumOfSquares, "\(what): sum of squares")
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
