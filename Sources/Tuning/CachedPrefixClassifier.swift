// Label scores for many prompts given as token ids, over fixed examples whose prefixes (the tokens before the
// prompt slot) are computed once and cached: each (prompt, example) pair then runs only [prompt | suffix].
// With RLPrompt's "{sentence} {prompt}" template the whole sentence is prefix, so a reward batch of 16 prompts
// × 16 sentences runs 16·16·n prompt tokens instead of 16·16·(sentence + n).
import Foundation
import Kernels
import Models

public final class CachedPrefixClassifier {
    public let model: any CausalLM
    public let verbalizer: Verbalizer
    public let examples: [EncodedExample]
    /// Continuations per forward pass: bounds the activation buffers.
    public let sequencesPerPass: Int
    private let caches: [KeyValueCache]
    private var inputs = GrowableBuffer()       // (N, C)
    private let logits: FloatBuffer             // (classes)

    public init(model: any CausalLM, examples: [EncodedExample], verbalizer: Verbalizer, sequencesPerPass: Int = 128) throws {
        self.model = model; self.examples = examples; self.verbalizer = verbalizer
        self.sequencesPerPass = max(1, sequencesPerPass)
        caches = try model.cachePrefixes(examples.map(\.prefix))
        logits = FloatBuffer(count: verbalizer.classCount)
    }

    /// Class log-probabilities, [prompt][example][class], for every prompt on the examples at `indices`.
    public func labelLogProbabilities(prompts: [[Int32]], examples indices: [Int]) throws -> [[[Float]]] {
        let pairs = prompts.indices.flatMap { p in indices.map { (prompt: p, example: $0) } }
        let scores = try labelLogProbabilities(pairs.map { (cache: caches[$0.example], tokens: prompts[$0.prompt] + examples[$0.example].suffix) })
        return prompts.indices.map { p in Array(scores[(p * indices.count)..<((p + 1) * indices.count)]) }
    }

    /// Class log-probabilities of prompts that all begin with `start`: that start is run once per example (its keys
    /// and values appended to copies of the examples' caches) and each prompt runs only its remaining tokens.
    /// [prompt][example][class], as labelLogProbabilities(prompts:examples:) would give for the whole prompts.
    public func labelLogProbabilities(prompts: [[Int32]], sharing start: [Int32], examples indices: [Int]) throws -> [[[Float]]] {
        guard !start.isEmpty else { return try labelLogProbabilities(prompts: prompts, examples: indices) }
        precondition(prompts.allSatisfy { $0.count > start.count && Array($0.prefix(start.count)) == start }, "every prompt begins with the shared start")
        let extended = indices.map { caches[$0].copy(room: start.count) }
        let C = model.width
        let batch = RaggedBatch(lengths: Array(repeating: start.count, count: extended.count))
        inputs.reserve(batch.tokenCount * C)
        try model.embed(Array(Array(repeating: start, count: extended.count).joined()), into: inputs.pointer)
        _ = try model.forward(inputs: inputs.pointer, batch: batch, continuing: extended, extend: true)
        let pairs = prompts.indices.flatMap { p in indices.indices.map { (prompt: p, slot: $0) } }
        let scores = try labelLogProbabilities(pairs.map {
            (cache: extended[$0.slot], tokens: Array(prompts[$0.prompt].dropFirst(start.count)) + examples[indices[$0.slot]].suffix)
        })
        return prompts.indices.map { p in Array(scores[(p * indices.count)..<((p + 1) * indices.count)]) }
    }

    /// Class log-probabilities after each continuation of its cache, in order; caches are left as they were.
    private func labelLogProbabilities(_ pairs: [(cache: KeyValueCache, tokens: [Int32])]) throws -> [[Float]] {
        var scores: [[Float]] = []
        scores.reserveCapacity(pairs.count)
        let C = model.width
        for start in stride(from: 0, to: pairs.count, by: sequencesPerPass) {
            let chunk = pairs[start..<min(start + sequencesPerPass, pairs.count)]
            guard chunk.allSatisfy({ !$0.tokens.isEmpty }) else { throw ModelError.emptyBatch }
            let batch = RaggedBatch(lengths: chunk.map(\.tokens.count))
            inputs.reserve(batch.tokenCount * C)
            try model.embed(chunk.flatMap(\.tokens), into: inputs.pointer)
            let hidden = try model.forward(inputs: inputs.pointer, batch: batch, continuing: chunk.map(\.cache), extend: false)
            for row in batch.lastRows {
                model.headLogits(hidden: hidden + row * C, rows: 1, vocabulary: verbalizer.firstTokens, into: logits.pointer)
                scores.append(logSoftmax(Array(logits.buffer)))
            }
        }
        return scores
    }

    /// Mean cross-entropy of the true labels and accuracy of one prompt on the examples at `indices` (not empty).
    public func crossEntropy(prompt: [Int32], examples indices: [Int]) throws -> (loss: Float, accuracy: Double) {
        let scores = try labelLogProbabilities(prompts: [prompt], examples: indices)[0]
        let (loss, correct) = Tuning.crossEntropy(scores, labels: indices.map { examples[$0].label })
        return (loss, Double(correct) / Double(indices.count))
    }

    /// Accuracy of one prompt on the examples at `indices` (all when nil).
    public func accuracy(prompt: [Int32], examples indices: [Int]? = nil) throws -> Double {
        let chosen = indices ?? Array(examples.indices)
        guard !chosen.isEmpty else { return 0 }
        let scores = try labelLogProbabilities(prompts: [prompt], examples: chosen)[0]
        return PromptClassifier.accuracy(scores, chosen.map { examples[$0] })
    }
}
