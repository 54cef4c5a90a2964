// Label scores for many prompts given as token ids, over fixed examples whose prefixes (the tokens before the
// prompt slot) are computed once and cached: each (prompt, example) pair then runs only [prompt | suffix].
// With RLPrompt's "{sentence} {prompt}" template the whole sentence is prefix, so a reward batch of 16 prompts
// × 16 sentences runs 16·16·n prompt tokens instead of 16·16·(sentence + n). Label words of several tokens run
// each pair once per continuation (see LabelWordReadings), [prompt | suffix | some word's leading tokens].
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
    /// nil when every word is one token.
    private let readings: LabelWordReadings?
    private var inputs = GrowableBuffer()       // (N, C)
    private let logits: FloatBuffer             // (classes)
    // Multi-token words: the hidden rows where words are read, (P·R, C), their full-vocabulary logits in groups of
    // at most `headRowsPerGroup` rows, and the word scores (K) of one pair.
    private var readingInputs = GrowableBuffer(), readingLogits = GrowableBuffer(), softmaxScratch = GrowableBuffer()
    /// Bounds the (rows, V) logits held at once: 64 rows of Gemma's 262,144 words are 64 MiB.
    private let headRowsPerGroup = 64

    public convenience init(model: any CausalLM, examples: [EncodedExample], verbalizer: Verbalizer, sequencesPerPass: Int = 128) throws {
        self.init(model: model, examples: examples, verbalizer: verbalizer, caches: try model.cachePrefixes(examples.map(\.prefix)),
                  sequencesPerPass: sequencesPerPass)
    }

    /// Examples whose prefixes are already in `caches` (one per example; one cache may serve several examples).
    init(model: any CausalLM, examples: [EncodedExample], verbalizer: Verbalizer, caches: [KeyValueCache], sequencesPerPass: Int) {
        precondition(caches.count == examples.count, "one cache per example")
        self.model = model; self.examples = examples; self.verbalizer = verbalizer; self.caches = caches
        self.sequencesPerPass = max(1, sequencesPerPass)
        readings = verbalizer.isSingleToken ? nil : LabelWordReadings(verbalizer)
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
        if let readings { return try labelLogProbabilities(pairs, readings: readings) }
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

    /// As above for multi-token words: each pair runs once per continuation, and its words' summed token
    /// log-probabilities are log-softmaxed over the words.
    private func labelLogProbabilities(_ pairs: [(cache: KeyValueCache, tokens: [Int32])], readings: LabelWordReadings) throws -> [[Float]] {
        var scores: [[Float]] = []
        scores.reserveCapacity(pairs.count)
        let (C, V, S, R) = (model.width, model.vocabularySize, readings.continuations.count, readings.readings.count)
        let pairsPerPass = max(1, sequencesPerPass / S), pairsPerGroup = max(1, headRowsPerGroup / R)
        readingLogits.reserve(pairsPerGroup * R * V); softmaxScratch.reserve(V)
        for start in stride(from: 0, to: pairs.count, by: pairsPerPass) {
            let chunk = pairs[start..<min(start + pairsPerPass, pairs.count)]
            guard chunk.allSatisfy({ !$0.tokens.isEmpty }) else { throw ModelError.emptyBatch }
            let sequences = chunk.flatMap { pair in readings.continuations.map { (cache: pair.cache, tokens: pair.tokens + $0) } }
            let batch = RaggedBatch(lengths: sequences.map(\.tokens.count))
            inputs.reserve(batch.tokenCount * C)
            try model.embed(sequences.flatMap(\.tokens), into: inputs.pointer)
            let hidden = try model.forward(inputs: inputs.pointer, batch: batch, continuing: sequences.map(\.cache), extend: false)
            let rows = readings.headRows(in: batch, contextLengths: chunk.map(\.tokens.count))
            readingInputs.reserve(rows.count * C)
            for (r, row) in rows.enumerated() { (readingInputs.pointer + r * C).update(from: hidden + row * C, count: C) }
            for first in stride(from: 0, to: chunk.count, by: pairsPerGroup) {
                let count = min(pairsPerGroup, chunk.count - first)
                model.headLogits(hidden: readingInputs.pointer + first * R * C, rows: count * R, into: readingLogits.pointer)
                for p in 0..<count {
                    readings.wordScores(logits: readingLogits.pointer + p * R * V, vocabularySize: V, scratch: softmaxScratch.pointer,
                                        into: logits.pointer)
                    scores.append(logSoftmax(Array(logits.buffer)))
                }
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
