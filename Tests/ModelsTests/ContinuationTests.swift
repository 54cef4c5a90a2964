// Continuations after cached prefixes (the form RLPrompt's rewards take) must give what the whole sequence
// gives, for several sequences at once, and leave shared prefixes untouched.
import Foundation
import Testing
import Kernels
import Models
import TestSupport

@Suite struct ContinuationTests {
    static let models: [(String, () -> any CausalLM)] = [
        ("gpt2", { try! DecoderModel(randomWeightsFor: GPT2BehaviourTests.config, seed: 7) }),
        ("gemma3", { try! DecoderModel(randomWeightsFor: DecoderBehaviourTests.gemma3, seed: 11) }),
    ]

    /// Full-head logits at the last token of each whole sequence, by the ordinary forward.
    func direct(_ model: any CausalLM, _ sequences: [[Int32]]) throws -> [[Float]] {
        let logits = try model.forward(ids: sequences) { .lastTokens(of: $0) }
        return (0..<logits.rows).map { Array(logits.row($0)) }
    }

    @Test(arguments: [0, 1]) func continuationsOfSharedPrefixesMatchWholeSequences(which: Int) throws {
        let model = Self.models[which].1()
        let C = model.width, V = model.vocabularySize
        // Two prefixes (5 tokens, so Gemma's 3-token window slides), each continued by several suffixes of
        // different lengths in one batch, in mixed order.
        let prefixes: [[Int32]] = [[3, 8, 1, 9, 4], [7, 2]]
        let caches = try model.cachePrefixes(prefixes)
        let jobs: [(prefix: Int, suffix: [Int32])] = [(0, [5, 6]), (1, [11]), (0, [12, 13, 14, 2]), (1, [4, 4, 4]), (0, [5, 6])]
        let batch = RaggedBatch(lengths: jobs.map(\.suffix.count))
        let inputs = FloatBuffer(count: batch.tokenCount * C)
        try model.embed(jobs.flatMap(\.suffix), into: inputs.pointer)
        let hidden = try model.forward(inputs: inputs.pointer, batch: batch, continuing: jobs.map { caches[$0.prefix] }, extend: false)
        let logits = FloatBuffer(count: V)
        let expected = try direct(model, jobs.map { prefixes[$0.prefix] + $0.suffix })
        for (j, row) in batch.lastRows.enumerated() {
            model.headLogits(hidden: hidden + row * C, rows: 1, into: logits.pointer)
            // Same arithmetic in another order (GEMM blocking, attention split over cache and new keys): float rounding.
            #expect(maxAbsDifference(Array(UnsafeBufferPointer(start: logits.pointer, count: V)), expected[j]) < 1e-4)
        }
        #expect(caches.map(\.position) == [5, 2])  // untouched: a prefix serves every continuation
    }

    @Test(arguments: [0, 1]) func extendingSeveralCachesDecodesThemTogether(which: Int) throws {
        let model = Self.models[which].1()
        let C = model.width, V = model.vocabularySize
        let starts: [[Int32]] = [[1, 2, 3], [4], [5, 6]]
        let caches = try model.cachePrefixes(starts, room: 1)
        let next: [Int32] = [7, 8, 9]
        let inputs = FloatBuffer(count: 3 * C)
        try model.embed(next, into: inputs.pointer)
        let hidden = try model.forward(inputs: inputs.pointer, batch: RaggedBatch(lengths: [1, 1, 1]), continuing: caches, extend: true)
        let logits = FloatBuffer(count: 3 * V)
        model.headLogits(hidden: hidden, rows: 3, into: logits.pointer)
        let expected = try direct(model, zip(starts, next).map { $0 + [$1] })
        for s in 0..<3 {
            #expect(maxAbsDifference(Array(UnsafeBufferPointer(start: logits.pointer + s * V, count: V)), expected[s]) < 1e-4)
        }
        #expect(caches.map(\.position) == [4, 2, 3])
        // A subset head picks the same values as the full head.
        let subset = FloatBuffer(count: 2)
        model.headLogits(hidden: hidden + C, rows: 1, vocabulary: [9, 2], into: subset.pointer)
        #expect(abs(subset[0] - logits[V + 9]) < 1e-5 && abs(subset[1] - logits[V + 2]) < 1e-5)
    }

    @Test func aFullCacheRefusesMoreTokens() throws {
        let model = Self.models[0].1()
        let cache = model.makeCache(capacity: 3)
        let inputs = FloatBuffer(count: 4 * model.width)
        try model.embed([1, 2, 3, 4], into: inputs.pointer)
        #expect(throws: ModelError.cacheFull(needed: 4, capacity: 3)) {
            _ = try model.forward(inputs: inputs.pointer, batch: RaggedBatch(lengths: [4]), continuing: [cache], extend: true)
        }
    }
}
