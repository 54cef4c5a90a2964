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
        var scores = prompts.map { _ in [[Float]]() }
        let C = model.width
        for start in stride(from: 0, to: pairs.count, by: sequencesPerPass) {
            let chunk = pairs[start..<min(start + sequencesPerPass, pairs.count)]
            let continuations = chunk.map { prompts[$0.prompt] + examples[$0.example].suffix }
            guard continuations.allSatisfy({ !$0.isEmpty }) else { throw ModelError.emptyBatch }
            let batch = RaggedBatch(lengths: continuations.map(\.count))
            inputs.reserve(batch.tokenCount * C)
            try model.embed(continuations.flatMap { $0 }, into: inputs.pointer)
            let hidden = try model.forward(inputs: inputs.pointer, batch: batch, continuing: chunk.map { caches[$0.example] }, extend: false)
            for (pair, row) in zip(chunk, batch.lastRows) {
                model.headLogits(hidden: hidden + row * C, rows: 1, vocabulary: verbalizer.ids, into: logits.pointer)
                scores[pair.prompt].append(logSoftmax(Array(logits.buffer)))
            }
        }
        return scores
    }

    /// Accuracy of one prompt on the examples at `indices` (all when nil).
    public func accuracy(prompt: [Int32], examples indices: [Int]? = nil) throws -> Double {
        let chosen = indices ?? Array(examples.indices)
        guard !chosen.isEmpty else { return 0 }
        let scores = try labelLogProbabilities(prompts: [prompt], examples: chosen)[0]
        return PromptClassifier.accuracy(scores, chosen.map { examples[$0] })
    }
}
