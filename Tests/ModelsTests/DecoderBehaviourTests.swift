// The decoder's forward and backward on tiny random models of each architecture of the family: gradients by
// finite differences through the whole network (Gemma 3's sliding-window and global layers, query-key and
// sandwich norms; Qwen2's QKV biases and untied head; Llama's linear RoPE scaling; grouped-query attention in
// all), ragged batches, cached decoding.
import Foundation
import Testing
import Kernels
import Models
import TestSupport

@Suite struct DecoderBehaviourTests {
    static var gemma3: DecoderConfig {
        var c = DecoderConfig.gemma3(layers: 3, width: 32, heads: 4, kvHeads: 2, headSize: 8, feedForwardWidth: 48,
                                     vocabularySize: 50, context: 64, slidingWindow: 3)
        c.slidingWindowPattern = 2  // layer 1 global, layers 0 and 2 sliding: both kinds in three layers
        return c
    }

    static var qwen2: DecoderConfig {
        .llama(.qwen2, layers: 3, width: 32, heads: 4, kvHeads: 2, headSize: 8, feedForwardWidth: 48, vocabularySize: 50,
               context: 64, ropeBase: 1_000_000, attentionBias: true, tiedHead: false)
    }

    static var llama: DecoderConfig {
        var c = DecoderConfig.llama(layers: 3, width: 32, heads: 4, kvHeads: 1, headSize: 8, feedForwardWidth: 48,
                                    vocabularySize: 50, context: 64)
        c.ropeLinearScaling = 2
        return c
    }

    enum Architecture: String, CaseIterable, CustomTestStringConvertible {
        case gemma3, qwen2, llama
        var config: DecoderConfig {
            switch self {
            case .gemma3: return DecoderBehaviourTests.gemma3
            case .qwen2: return DecoderBehaviourTests.qwen2
            case .llama: return DecoderBehaviourTests.llama
            }
        }
        var testDescription: String { rawValue }
        /// Parameters whose gradients are checked: every layer kind the architecture has.
        var checkedParameters: [String] {
            let common = ["blk.1.attn_k.weight", "blk.2.ffn_down.weight", "token_embd.weight", "output_norm.weight", "blk.0.attn_v.weight"]
            switch self {
            case .gemma3: return common + ["blk.0.attn_q_norm.weight", "blk.1.post_ffw_norm.weight"]
            case .qwen2: return common + ["blk.0.attn_q.bias", "blk.2.attn_k.bias", "blk.1.attn_v.bias", "output.weight"]
            case .llama: return common + ["blk.0.attn_q.weight", "blk.2.ffn_gate.weight"]
            }
        }
    }

    func model(_ architecture: Architecture = .gemma3) -> DecoderModel {
        try! DecoderModel(randomWeightsFor: architecture.config, seed: 11)
    }

    /// Σ weights ⊙ logits for a fixed batch, from given input embeddings.
    func objective(_ model: DecoderModel, _ inputs: [Float], _ batch: RaggedBatch, _ head: HeadRequest, _ weights: [Float]) throws -> Double {
        let logits = try model.forward(inputs: inputs, batch: batch, head: head)
        return zip(UnsafeBufferPointer(start: logits.pointer, count: logits.rows * logits.columns), weights)
            .reduce(0) { $0 + Double($1.0) * Double($1.1) }
    }

    @Test(arguments: Architecture.allCases)
    func inputGradientMatchesFiniteDifferences(_ architecture: Architecture) throws {
        let model = model(architecture)
        let batch = RaggedBatch(lengths: [5, 2, 6])
        let head = HeadRequest(rows: [4, 6, 12, 9], vocabulary: [3, 7, 49])
        let inputs = randomArray(batch.tokenCount * 32, seed: 1)
        let weights = randomArray(4 * 3, seed: 2)
        _ = try model.forward(inputs: inputs, batch: batch, head: head)
        let analytic = try Array(UnsafeBufferPointer(start: model.backward(dLogits: weights, mode: .frozenWeights), count: inputs.count))
        // Float forward: step 1e-2 keeps rounding noise (~1e-6 / 1e-2) well under the 2% tolerance, and the
        // network is smooth enough that truncation error stays small too.
        var probe = inputs
        for i in stride(from: 0, to: inputs.count, by: 7) {
            probe[i] = inputs[i] + 1e-2
            let up = try objective(model, probe, batch, head, weights)
            probe[i] = inputs[i] - 1e-2
            let down = try objective(model, probe, batch, head, weights)
            probe[i] = inputs[i]
            let numeric = (up - down) / 2e-2
            #expect(abs(numeric - Double(analytic[i])) < 0.02 * max(abs(numeric), 0.05), "input \(i): \(numeric) vs \(analytic[i])")
        }
    }

    @Test(arguments: Architecture.allCases)
    func weightGradientsMatchFiniteDifferences(_ architecture: Architecture) throws {
        let model = model(architecture)
        let batch = RaggedBatch(lengths: [4, 5])
        let head = HeadRequest.allTokens(of: batch)
        let inputs = randomArray(batch.tokenCount * 32, seed: 3)
        let weights = randomArray(batch.tokenCount * 50, seed: 4)
        _ = try model.forward(inputs: inputs, batch: batch, head: head)
        model.zeroGradients()
        _ = try model.backward(dLogits: weights, mode: .full)
        let gradients = try #require(model.gradients)
        for name in architecture.checkedParameters {
            let entry = model.layout.entry(name)
            for i in stride(from: 0, to: entry.count, by: max(1, entry.count / 5)) {
                let p = model.parameters.pointer + entry.offset + i, saved = p.pointee
                p.pointee = saved + 1e-2
                let up = try objective(model, inputs, batch, head, weights)
                p.pointee = saved - 1e-2
                let down = try objective(model, inputs, batch, head, weights)
                p.pointee = saved
                let numeric = (up - down) / 2e-2, analytic = Double(gradients[entry.offset + i])
                #expect(abs(numeric - analytic) < 0.02 * max(abs(numeric), 0.05), "\(name)[\(i)]: \(numeric) vs \(analytic)")
            }
        }
    }

    /// Same GEMMs in both modes; 1e-5 allows OpenBLAS's thread-count-dependent summation order (see GPT2ParityTests).
    @Test(arguments: Architecture.allCases)
    func frozenAndFullBackwardAgreeOnInputs(_ architecture: Architecture) throws {
        let model = model(architecture)
        let batch = RaggedBatch(lengths: [3, 7])
        let inputs = randomArray(batch.tokenCount * 32, seed: 5), weights = randomArray(2 * 50, seed: 6)
        var results: [[Float]] = []
        for mode in [BackwardMode.frozenWeights, .full] {
            _ = try model.forward(inputs: inputs, batch: batch, head: .lastTokens(of: batch))
            results.append(Array(UnsafeBufferPointer(start: try model.backward(dLogits: weights, mode: mode), count: inputs.count)))
        }
        #expect(relativeError(results[0], results[1]) < 1e-5)
        #expect(results[0].contains { $0 != 0 })
    }

    @Test(arguments: Architecture.allCases)
    func raggedBatchesMatchSingleExamples(_ architecture: Architecture) throws {
        let model = model(architecture)
        let sequences: [[Int32]] = [[1, 2, 3, 4, 5, 6, 7], [9], [4, 4, 4]]
        let batched = try model.forward(ids: sequences) { .lastTokens(of: $0) }
        let rows = (0..<3).map { Array(batched.row($0)) }
        for (b, sequence) in sequences.enumerated() {
            let alone = try model.forward(ids: [sequence]) { .lastTokens(of: $0) }
            #expect(maxAbsDifference(Array(alone.row(0)), rows[b]) < 1e-5)
        }
    }

    @Test(arguments: Architecture.allCases)
    func cachedDecodingMatchesRecomputing(_ architecture: Architecture) throws {
        let model = model(architecture)
        let prompt: [Int32] = [5, 6, 7]
        let cached = try model.generate(prompt: prompt, options: GenerationOptions(maxTokens: 12))
        var sequence = prompt, recomputed: [Int32] = []
        for _ in 0..<12 {
            let next = Int32(argmax(try model.forward(ids: [sequence]) { .lastTokens(of: $0) }.row(0)))
            recomputed.append(next)
            sequence.append(next)
        }
        #expect(cached == recomputed)
        let decoder = model.makeDecoder(capacity: 20)
        _ = try decoder.append(Array(sequence.prefix(9)))
        let step = Array(try decoder.append([sequence[9]]))
        let direct = try model.forward(ids: [Array(sequence.prefix(10))]) { .lastTokens(of: $0) }
        #expect(maxAbsDifference(step, Array(direct.row(0))) < 1e-5)
    }

    @Test func embeddingsAreScaledBySquareRootOfWidth() throws {
        let model = model()
        let out = FloatBuffer(count: 32)
        try model.embed([7], into: out.pointer)
        for i in 0..<32 { #expect(out[i] == model.tokenEmbeddings[7 * 32 + i] * Float(32).squareRoot()) }
    }

    @Test func llamaFamilyEmbeddingsAreTheRowsAsStored() throws {
        let model = model(.qwen2)
        let out = FloatBuffer(count: 32)
        try model.embed([7], into: out.pointer)
        for i in 0..<32 { #expect(out[i] == model.tokenEmbeddings[7 * 32 + i]) }
    }

    @Test func anUntiedHeadIsItsOwnTensorAndATiedOneIsTheEmbedding() throws {
        let untied = model(.qwen2), tied = model(.llama)
        #expect(!untied.isHeadTied && tied.isHeadTied)
        #expect(untied.headWeights == UnsafePointer(untied.parameters.pointer + untied.layout.entry("output.weight").offset))
        // The logits of an untied model are the head's rows, not the embedding's: changing the embedding row of a
        // token that is not in the input leaves its logit alone; changing its head row moves it.
        let before = Array(try untied.forward(ids: [[1, 2, 3]]) { .lastTokens(of: $0) }.row(0))
        let embeddingRow = untied.parameters.pointer + untied.layout.entry("token_embd.weight").offset + 40 * 32
        embeddingRow.update(repeating: 5, count: 32)
        #expect(Array(try untied.forward(ids: [[1, 2, 3]]) { .lastTokens(of: $0) }.row(0)) == before)
        let headRow = untied.parameters.pointer + untied.layout.entry("output.weight").offset + 40 * 32
        headRow.update(repeating: 5, count: 32)
        let after = Array(try untied.forward(ids: [[1, 2, 3]]) { .lastTokens(of: $0) }.row(0))
        #expect(after[40] != before[40] && after[39] == before[39])
    }
}
