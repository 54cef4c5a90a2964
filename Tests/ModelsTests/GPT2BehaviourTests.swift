// Properties the model must have whatever its weights: ragged batches, cached decoding, head selection.
import Foundation
import Testing
import Kernels
import Models
import TestSupport

@Suite struct GPT2BehaviourTests {
    static let config = GPT2Config(layers: 2, heads: 3, width: 24, positions: 40, vocabularySize: 97)

    func model() throws -> DecoderModel { try DecoderModel(randomWeightsFor: Self.config, seed: 7) }

    @Test func anExampleGivesTheSameLogitsAloneOrInARaggedBatch() throws {
        let model = try model()
        let sequences: [[Int32]] = [[5, 9, 13, 2, 40], [7], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]]
        let batched = try model.forward(ids: sequences) { .allTokens(of: $0) }
        let together = Array(UnsafeBufferPointer(start: batched.pointer, count: batched.rows * batched.columns))
        let batch = RaggedBatch(lengths: sequences.map(\.count))
        for (b, sequence) in sequences.enumerated() {
            let alone = try model.forward(ids: [sequence]) { .allTokens(of: $0) }
            let mine = Array(together[(batch.offsets[b] * 97)..<((batch.offsets[b] + sequence.count) * 97)])
            // GEMM blocking may differ with the row count; the values agree to float rounding.
            #expect(maxAbsDifference(Array(UnsafeBufferPointer(start: alone.pointer, count: alone.rows * 97)), mine) < 1e-5)
        }
    }

    @Test func headOnAVocabularySubsetPicksTheSameLogits() throws {
        let model = try model()
        let sequences: [[Int32]] = [[3, 1, 4, 1, 5], [9, 2, 6]]
        let full = try model.forward(ids: sequences) { .lastTokens(of: $0) }
        let fullRows = (0..<2).map { Array(full.row($0)) }
        let vocabulary: [Int32] = [96, 0, 42]
        let subset = try model.forward(ids: sequences) { .lastTokens(of: $0, vocabulary: vocabulary) }
        for r in 0..<2 {
            for (j, id) in vocabulary.enumerated() { #expect(abs(subset.row(r)[j] - fullRows[r][Int(id)]) < 1e-5) }
        }
    }

    @Test func cachedDecodingMatchesRecomputing() throws {
        let model = try model()
        let prompt: [Int32] = [11, 22, 33, 44]
        let cached = try model.generate(prompt: prompt, options: GenerationOptions(maxTokens: 20))
        var sequence = prompt, recomputed: [Int32] = []
        for _ in 0..<20 {
            let logits = try model.forward(ids: [sequence]) { .lastTokens(of: $0) }
            let next = Int32(argmax(logits.row(0)))
            recomputed.append(next)
            sequence.append(next)
        }
        #expect(cached == recomputed)
        // Logits too, not only the argmax: feed the decoder token by token.
        let decoder = model.makeDecoder(capacity: 40)
        _ = try decoder.append(prompt)
        let stepLogits = Array(try decoder.append([cached[0]]))
        let direct = try model.forward(ids: [prompt + [cached[0]]]) { .lastTokens(of: $0) }
        #expect(maxAbsDifference(stepLogits, Array(direct.row(0))) < 1e-5)
    }

    @Test func generationStopsAtAStopTokenAndAtTheContextEnd() throws {
        let model = try model()
        let free = try model.generate(prompt: [1, 2], options: GenerationOptions(maxTokens: 10))
        let stop = free.last!, firstStop = free.firstIndex(of: stop)!
        let stopped = try model.generate(prompt: [1, 2], options: GenerationOptions(maxTokens: 10, stopTokens: [stop]))
        #expect(stopped == Array(free.prefix(firstStop + 1)))
        let long = try model.generate(prompt: [1, 2], options: GenerationOptions(maxTokens: 100))
        #expect(long.count == 40 - 2 + 1)  // fills the 40-position context, then one last token from its logits
    }

    @Test func samplingIsSeededAndTopKOneIsGreedy() throws {
        let model = try model()
        let sampled = { (options: SamplingOptions) in
            try model.generate(prompt: [3, 4], options: GenerationOptions(maxTokens: 15, sampling: options))
        }
        let a = try sampled(SamplingOptions(temperature: 1.5, topK: 50, topP: 0.95, seed: 1))
        #expect(try sampled(SamplingOptions(temperature: 1.5, topK: 50, topP: 0.95, seed: 1)) == a)
        #expect(try sampled(SamplingOptions(temperature: 1.5, topK: 50, topP: 0.95, seed: 2)) != a)
        #expect(try sampled(SamplingOptions(temperature: 1, topK: 1, seed: 3)) == sampled(.greedy))
    }

    @Test func samplingFollowsTheDistribution() {
        // logits log(0.6), log(0.3), log(0.1): 20,000 draws land within 2% of each probability.
        let logits: [Float] = [0.6, 0.3, 0.1].map { Float(Foundation.log($0)) }
        var sampler = Sampler(SamplingOptions(temperature: 1, seed: 9))
        var counts = [0, 0, 0]
        logits.withUnsafeBufferPointer { for _ in 0..<20_000 { counts[Int(sampler.next(from: $0))] += 1 } }
        for (count, p) in zip(counts, [0.6, 0.3, 0.1]) { #expect(abs(Double(count) / 20_000 - p) < 0.02) }
        // Top-p 0.5 keeps only the first token; top-k 2 never draws the third.
        var nucleus = Sampler(SamplingOptions(temperature: 1, topP: 0.5, seed: 9))
        var topTwo = Sampler(SamplingOptions(temperature: 1, topK: 2, seed: 9))
        logits.withUnsafeBufferPointer { l in
            for _ in 0..<500 {
                #expect(nucleus.next(from: l) == 0)
                #expect(topTwo.next(from: l) != 2)
            }
        }
    }

    /// Over a vocabulary of 5,000 words: without top-k, draws follow the softmax (the five likeliest words within
    /// 1.5 points over 20,000 draws, where a standard error is at most 0.26 points); with top-p, every draw is inside the nucleus found by
    /// sorting, including one that needs more than the first 256 and 2,048 candidates.
    @Test func samplingAVocabularyWithoutTopK() {
        var rng = SeededGenerator(seed: 4)
        let logits = (0..<5_000).map { i in i < 5 ? Float(5 - i) : Float(rng.nextNormal()) * 0.5 - 2 }
        let weights = logits.map { Foundation.exp(Double($0)) }, total = weights.reduce(0, +)
        var sampler = Sampler(SamplingOptions(temperature: 1, seed: 11))
        var counts = [Int](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { for _ in 0..<20_000 { counts[Int(sampler.next(from: $0))] += 1 } }
        for i in 0..<5 { #expect(abs(Double(counts[i]) / 20_000 - weights[i] / total) < 0.015, "word \(i)") }
        for p in [Float(0.5), 0.97, 0.999] {
            let sorted = logits.indices.sorted { logits[$0] > logits[$1] }
            var cumulative = 0.0, nucleus = Set<Int>()
            for i in sorted where nucleus.isEmpty || cumulative < Double(p) * total { cumulative += weights[i]; nucleus.insert(i) }
            var top = Sampler(SamplingOptions(temperature: 1, topP: p, seed: 12))
            logits.withUnsafeBufferPointer { l in
                for _ in 0..<300 { #expect(nucleus.contains(Int(top.next(from: l))), "top-p \(p), nucleus of \(nucleus.count)") }
            }
            if p == 0.999 { #expect(nucleus.count > 2_048) }
        }
    }

    @Test func badInputsThrowTypedErrors() throws {
        let model = try model()
        #expect(throws: ModelError.sequenceTooLong(length: 41, limit: 40)) {
            try model.forward(ids: [[Int32](repeating: 1, count: 41)]) { .lastTokens(of: $0) }
        }
        #expect(throws: ModelError.tokenOutOfRange(id: 97, vocabularySize: 97)) {
            try model.forward(ids: [[1, 97]]) { .lastTokens(of: $0) }
        }
        #expect(throws: ModelError.emptyBatch) { try model.forward(ids: [[]]) { .lastTokens(of: $0) } }
        #expect(throws: ModelError.tokenOutOfRange(id: 500, vocabularySize: 97)) {
            try model.forward(ids: [[1, 2]]) { .lastTokens(of: $0, vocabulary: [500]) }
        }
        let fresh = try self.model()
        #expect(throws: ModelError.backwardWithoutForward) { try fresh.backward(dLogits: FloatBuffer(count: 1).pointer, mode: .frozenWeights) }
    }

    @Test func fullSizeConfigurationHasGPT2sParameterCount() throws {
        // 124,439,808 is the OpenAI checkpoint's total (models/gpt2/openai-checkpoint-manifest.json).
        let layout = GPT2Config.gpt2Small.parameterLayout
        #expect(layout.entries.reduce(0) { $0 + $1.count } == 124_439_808)
        #expect(layout.entries.count == 148)
    }
}
