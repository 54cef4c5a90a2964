// Models with bfloat16 products (`DecoderModel.use(precision:)`) on tiny random weights of each layout: GPT-2's
// fused Conv1D matrices ([in, out]), Gemma 3's and Qwen2's [out, in] with Qwen2's untied head.
//
// Tolerances. Against float32, every product's inputs are rounded by up to 2⁻⁸ relative; through these two- and
// three-layer models the logits and input gradients stay within 2e-2 relative to their largest value (measured:
// 3e-3 to 9e-3 for logits, 3e-3 to 1.4e-2 for input gradients, the largest Gemma 3's), and must differ (the rounding
// happened). Decoding through the cache (one row per product: the
// bfloat16 kernel where the CPU has it) against the whole sequence at once (the same rounded arithmetic, sums in
// another order): 1e-3 relative, looser than float32's 1e-5 because an activation near a rounding boundary may round
// the other way on one route.
import Foundation
import Testing
import Kernels
import Models
import TestSupport

@Suite struct ReducedPrecisionModelTests {
    enum Kind: String, CaseIterable, CustomTestStringConvertible {
        case gpt2, gemma3, qwen2
        var testDescription: String { rawValue }
        func model() throws -> DecoderModel {
            switch self {
            case .gpt2: return try DecoderModel(randomWeightsFor: GPT2BehaviourTests.config, seed: 7)
            case .gemma3: return try DecoderModel(randomWeightsFor: DecoderBehaviourTests.gemma3, seed: 11)
            case .qwen2: return try DecoderModel(randomWeightsFor: DecoderBehaviourTests.qwen2, seed: 11)
            }
        }
    }

    let ids: [Int32] = [3, 17, 5, 9, 1, 22, 8, 30, 2, 14]

    /// Logits at every position and the input gradient of Σ weights ⊙ logits.
    func logitsAndGradient(_ model: DecoderModel) throws -> (logits: [Float], gradient: [Float]) {
        let C = model.width, batch = RaggedBatch(lengths: [ids.count])
        let inputs = FloatBuffer(count: ids.count * C)
        try model.embed(ids, into: inputs.pointer)
        let logits = try model.forward(inputs: inputs.pointer, batch: batch, head: .allTokens(of: batch))
        let values = Array(UnsafeBufferPointer(start: logits.pointer, count: logits.rows * logits.columns))
        let weights = FloatBuffer(randomArray(values.count, seed: 5))
        let gradient = try model.backward(dLogits: weights.pointer, dHeadInputs: nil, mode: .frozenWeights)
        return (values, Array(UnsafeBufferPointer(start: gradient, count: ids.count * C)))
    }

    @Test(arguments: Kind.allCases)
    func bfloat16StaysCloseToFloat32(kind: Kind) throws {
        let exact = try kind.model(), reduced = try kind.model()
        try reduced.use(precision: .bf16)
        #expect(reduced.products.precision == .bf16 && reduced.summary.hasSuffix("bf16 products)"))
        let a = try logitsAndGradient(exact), b = try logitsAndGradient(reduced)
        for (name, x, y) in [("logits", b.logits, a.logits), ("input gradient", b.gradient, a.gradient)] {
            let difference = relativeError(x, y)
            #expect(difference > 1e-6 && difference < 2e-2, "\(kind) \(name): \(difference)")
        }
    }

    @Test(arguments: Kind.allCases)
    func matricesAreRoundedAndNormsAreNot(kind: Kind) throws {
        let exact = try kind.model(), reduced = try kind.model()
        try reduced.use(precision: .bf16)
        for entry in reduced.layout.entries {
            let before = Array(UnsafeBufferPointer(start: exact.parameters.pointer + entry.offset, count: entry.count))
            let after = Array(UnsafeBufferPointer(start: reduced.parameters.pointer + entry.offset, count: entry.count))
            var rounded = before
            rounded.withUnsafeMutableBufferPointer { roundToBFloat16($0.baseAddress!, count: $0.count) }
            let isMatrix = entry.shape.count == 2 && !entry.name.contains("wpe")
            #expect(after == (isMatrix ? rounded : before), "\(kind) \(entry.name)")
        }
    }

    @Test(arguments: Kind.allCases)
    func decodingAgreesWithTheWholeSequence(kind: Kind) throws {
        let model = try kind.model()
        try model.use(precision: .bf16)
        // 40 tokens: more rows than the kernel takes (FrozenProducts.kernelRowLimit), so the whole sequence goes the
        // sgemm route.
        let long = (0..<40).map { Int32(($0 * 7 + 3) % 50) }
        #expect(long.count > FrozenProducts.kernelRowLimit)
        let whole = Array(try model.forward(ids: [long]) { .lastTokens(of: $0) }.row(0))
        let decoder = model.makeDecoder(capacity: long.count)
        var stepped: [Float] = []
        for id in long { stepped = Array(try decoder.append([id])) }
        #expect(relativeError(stepped, whole) < 1e-3)
    }

    /// The head over chosen words (dot products, not a matrix product) takes the same rounded inputs as the whole head.
    @Test(arguments: Kind.allCases)
    func theHeadOverChosenWordsMatchesTheWholeHead(kind: Kind) throws {
        let model = try kind.model()
        try model.use(precision: .bf16)
        let (R, C, V) = (3, model.width, model.vocabularySize)
        let hidden = FloatBuffer(randomArray(R * C, seed: 8)), words: [Int32] = [4, 0, 9, 2]
        let whole = FloatBuffer(count: R * V), chosen = FloatBuffer(count: R * words.count)
        model.headLogits(hidden: hidden.pointer, rows: R, into: whole.pointer)
        model.headLogits(hidden: hidden.pointer, rows: R, vocabulary: words, into: chosen.pointer)
        let expected = (0..<R).flatMap { r in words.map { whole.array[r * V + Int($0)] } }
        #expect(relativeError(chosen.array, expected) < 1e-5)
    }

    @Test func precisionIsChosenOnce() throws {
        let model = try Kind.gemma3.model()
        try model.use(precision: .fp32)  // already so: nothing happens
        try model.use(precision: .bf16)
        try model.use(precision: .bf16)
        #expect(throws: ModelError.precisionAlreadySet("bf16")) { try model.use(precision: .fp32) }
    }
}
