// Label probabilities of examples under a prompt: the logits of the verbalizer words at each example's last
// token, normalized over those words only (as PEZ and RLPrompt score classes). Words of several tokens are
// scored by their tokens' summed log-probabilities instead (see LabelWordReadings).
import Foundation
import Kernels
import Models

public final class PromptClassifier {
    public let model: any CausalLM
    public let verbalizer: Verbalizer
    public let batchSize: Int
    private(set) var prompted = PromptedBatch()
    /// nil when every word is one token.
    private let readings: LabelWordReadings?
    /// Multi-token words, after `forward`: the head's rows (B·R, V), which backward differentiates the
    /// log-softmax of, and the word scores (B, K) handed out.
    private var headLogits: Logits?
    private var wordScores = GrowableBuffer()
    private var softmaxScratch = GrowableBuffer(), dHeadLogits = GrowableBuffer()

    /// Whether a start the examples share runs once: in labelLogProbabilities as a cached start (see SharedStart),
    /// in forward and backward as the batch's shared start (see PromptedBatch). Off only to measure what it saves.
    public let sharesStart: Bool

    public init(model: any CausalLM, verbalizer: Verbalizer, batchSize: Int = 16, sharesStart: Bool = true) {
        self.model = model; self.verbalizer = verbalizer; self.batchSize = max(1, batchSize); self.sharesStart = sharesStart
        readings = verbalizer.isSingleToken ? nil : LabelWordReadings(verbalizer)
    }

    /// Log-probabilities over the classes, one row per example.
    public func labelLogProbabilities(_ examples: [EncodedExample], prompt: PromptEmbeddings) throws -> [[Float]] {
        if sharesStart, let start = SharedStart(examples, prompt: prompt) { return try labelLogProbabilities(examples, after: start) }
        return try wholeLabelLogProbabilities(examples, prompt: prompt)
    }

    /// As above with each example run whole, [prefix | prompt | suffix], even when the examples share their start:
    /// the reference the shared-start path is tested against.
    func wholeLabelLogProbabilities(_ examples: [EncodedExample], prompt: PromptEmbeddings) throws -> [[Float]] {
        var result: [[Float]] = []
        result.reserveCapacity(examples.count)
        for start in stride(from: 0, to: examples.count, by: batchSize) {
            let slice = examples[start..<min(start + batchSize, examples.count)]
            let logits = try forward(slice, prompt: prompt, sharingStart: false)
            for r in 0..<logits.rows { result.append(logSoftmax(Array(logits.row(r)))) }
        }
        return result
    }

    /// The start every example shares, run once: with a prompt-first template ("{prompt} {sentence} It was") and a
    /// prompt of vectors, `<bos>`, the template's words before the prompt, and the prompt; with a prompt typed as
    /// text (the examples' ids are then whole sequences), the token ids they all begin with — `<bos>` and the
    /// prompt's tokens, up to where the first sentence word may have merged with the prompt's last.
    struct SharedStart {
        let tokens: [Int32]
        /// After `tokens` when the examples have a prompt of vectors; empty otherwise.
        let prompt: PromptEmbeddings
        /// Each example's ids after the shared start, each at least one token long (its label is read at its end).
        let rests: [[Int32]]

        /// nil when sharing cannot pay: one example, nothing shared, or, with a prompt of vectors, prefixes that
        /// differ (the sentence comes before the prompt) or an example with nothing after the prompt.
        init?(_ examples: [EncodedExample], prompt: PromptEmbeddings) {
            guard examples.count > 1, let first = examples.first else { return nil }
            if prompt.length > 0 {
                guard examples.allSatisfy({ $0.prefix == first.prefix && !$0.suffix.isEmpty }) else { return nil }
                (tokens, self.prompt, rests) = (first.prefix, prompt, examples.map(\.suffix))
                return
            }
            let sequences = examples.map { $0.prefix + $0.suffix }
            var shared = sequences.map(\.count).min()! - 1  // every example keeps a token of its own
            for sequence in sequences.dropFirst() {
                shared = zip(sequence.prefix(shared), sequences[0].prefix(shared)).prefix { $0 == $1 }.count
            }
            guard shared > 0 else { return nil }
            (tokens, self.prompt, rests) = (Array(sequences[0].prefix(shared)), prompt, sequences.map { Array($0.dropFirst(shared)) })
        }

        var count: Int { tokens.count + prompt.length }
    }

    /// Every example's rest run after one cached shared start: its keys and values are computed once per call
    /// instead of once per example: with PEZ's template and a 10-token prompt, 11 tokens of every sequence.
    private func labelLogProbabilities(_ examples: [EncodedExample], after start: SharedStart) throws -> [[Float]] {
        let C = model.width, P = start.tokens.count, n = start.prompt.length
        let inputs = FloatBuffer(count: start.count * C)
        if P > 0 { try model.embed(start.tokens, into: inputs.pointer) }
        if n > 0 { start.prompt.values.withUnsafeBufferPointer { (inputs.pointer + P * C).update(from: $0.baseAddress!, count: n * C) } }
        let cache = model.makeCache(capacity: start.count)
        _ = try model.forward(inputs: inputs.pointer, batch: RaggedBatch(lengths: [start.count]), continuing: [cache], extend: true)
        // The rests are short, so more of them per pass keep the GEMMs wide; CachedPrefixClassifier still bounds the
        // label-word readings' logits.
        let rests = CachedPrefixClassifier(model: model, examples: zip(examples, start.rests).map { EncodedExample(prefix: [], suffix: $1, label: $0.label) },
                                           verbalizer: verbalizer, caches: Array(repeating: cache, count: examples.count),
                                           sequencesPerPass: max(batchSize, 64))
        return try rests.labelLogProbabilities(prompts: [[]], examples: Array(examples.indices))[0]
    }

    /// The mean label margin over `examples` (see `margin`) and its gradient with respect to the prompt's vectors
    /// (n·C), run batch by batch: what gradient × input saliency reads.
    public func marginAndGradient(_ examples: [EncodedExample], prompt: PromptEmbeddings) throws -> (margin: Double, gradient: [Float]) {
        var gradient = [Float](repeating: 0, count: prompt.values.count), total = 0.0
        let share = 1 / Float(max(examples.count, 1))
        for start in stride(from: 0, to: examples.count, by: batchSize) {
            let slice = examples[start..<min(start + batchSize, examples.count)]
            let logits = try forward(slice, prompt: prompt)
            let K = logits.columns
            var dLogits = [Float](repeating: 0, count: logits.rows * K)
            for (r, example) in slice.enumerated() {
                let scores = logSoftmax(Array(logits.row(r)))
                let rival = Self.rival(scores, label: example.label)
                total += Double(scores[example.label] - scores[rival])
                // Log-softmax's normalizer cancels in a difference of two scores: d(margin)/d(logits) is +1 at the label, −1 at the rival.
                dLogits[r * K + example.label] = share
                dLogits[r * K + rival] = -share
            }
            try dLogits.withUnsafeBufferPointer { try promptGradient(dLogits: $0.baseAddress!, prompt: prompt, into: &gradient) }
        }
        return (total / Double(max(examples.count, 1)), gradient)
    }

    /// One example's label margin: its label's log-probability minus the best other class's (positive when right).
    public static func margin(_ scores: [Float], label: Int) -> Double { Double(scores[label] - scores[rival(scores, label: label)]) }

    /// The most probable class other than the label.
    static func rival(_ scores: [Float], label: Int) -> Int {
        scores.indices.filter { $0 != label }.max { scores[$0] < scores[$1] }!
    }

    public func accuracy(_ examples: [EncodedExample], prompt: PromptEmbeddings) throws -> Double {
        let scores = try labelLogProbabilities(examples, prompt: prompt)
        return Self.accuracy(scores, examples)
    }

    public static func accuracy(_ scores: [[Float]], _ examples: [EncodedExample]) -> Double {
        guard !examples.isEmpty else { return 0 }
        let correct = zip(scores, examples).filter { predicted($0.0) == $0.1.label }.count
        return Double(correct) / Double(examples.count)
    }

    /// The most probable class of one example's scores (the first on a tie): the one definition of a prediction.
    public static func predicted(_ scores: [Float]) -> Int { scores.indices.max { scores[$0] < scores[$1] }! }

    /// Class scores (B, classes) whose log-softmax is each example's label log-probabilities: the verbalizer
    /// logits at the last token, or, for multi-token words, their summed log-probabilities. The model keeps the
    /// state for backward. `sharingStart` (by default `sharesStart`) false runs every example whole.
    func forward(_ examples: ArraySlice<EncodedExample>, prompt: PromptEmbeddings, sharingStart: Bool? = nil) throws -> Logits {
        let sharingStart = sharingStart ?? sharesStart
        guard let readings else {
            try prompted.assemble(examples, prompt: prompt, model: model, sharingStart: sharingStart)
            return try model.forward(inputs: prompted.inputs.pointer, batch: prompted.batch,
                                     head: .lastTokens(of: prompted.batch, vocabulary: verbalizer.firstTokens))
        }
        try prompted.assemble(examples, prompt: prompt, model: model, continuations: readings.continuations, sharingStart: sharingStart)
        let start = prompted.batch.sharedStart
        let rows = readings.headRows(in: prompted.batch, contextLengths: examples.map { $0.length(promptLength: prompt.length) - start })
        let logits = try model.forward(inputs: prompted.inputs.pointer, batch: prompted.batch, head: HeadRequest(rows: rows))
        headLogits = logits
        let (B, K, R, V) = (examples.count, verbalizer.classCount, readings.readings.count, logits.columns)
        wordScores.reserve(B * K); softmaxScratch.reserve(V)
        for b in 0..<B {
            readings.wordScores(logits: logits.pointer + b * R * V, vocabularySize: V, scratch: softmaxScratch.pointer,
                                into: wordScores.pointer + b * K)
        }
        return Logits(pointer: wordScores.pointer, rows: B, columns: K)
    }

    /// After `forward`: the gradient for the prompt from d(loss)/d(class scores).
    func promptGradient(dLogits: UnsafePointer<Float>, prompt: PromptEmbeddings, into gradient: inout [Float]) throws {
        var dHead = dLogits
        if let readings, let headLogits {
            let (K, R, V) = (verbalizer.classCount, readings.readings.count, headLogits.columns)
            dHeadLogits.reserve(headLogits.rows * V)
            for b in 0..<(headLogits.rows / R) {
                readings.logitsGradient(dScores: dLogits + b * K, logits: headLogits.pointer + b * R * V, vocabularySize: V,
                                        into: dHeadLogits.pointer + b * R * V)
            }
            dHead = UnsafePointer(dHeadLogits.pointer)
        }
        let dInputs = try model.backward(dLogits: dHead, mode: .frozenWeights)
        prompted.promptGradient(from: dInputs, promptLength: prompt.length, width: prompt.width, into: &gradient)
    }
}

func logSoftmax(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    let logSum = Double(m) + Foundation.log(x.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) })
    return x.map { Float(Double($0) - logSum) }
}
