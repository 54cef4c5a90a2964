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
    private var prompted = PromptedBatch()
    /// nil when every word is one token.
    private let readings: LabelWordReadings?
    /// Multi-token words, after `forward`: the head's rows (B·R, V), which backward differentiates the
    /// log-softmax of, and the word scores (B, K) handed out.
    private var headLogits: Logits?
    private var wordScores = GrowableBuffer()
    private var softmaxScratch = GrowableBuffer(), dHeadLogits = GrowableBuffer()

    public init(model: any CausalLM, verbalizer: Verbalizer, batchSize: Int = 16) {
        self.model = model; self.verbalizer = verbalizer; self.batchSize = max(1, batchSize)
        readings = verbalizer.isSingleToken ? nil : LabelWordReadings(verbalizer)
    }

    /// Log-probabilities over the classes, one row per example.
    public func labelLogProbabilities(_ examples: [EncodedExample], prompt: PromptEmbeddings) throws -> [[Float]] {
        var result: [[Float]] = []
        result.reserveCapacity(examples.count)
        for start in stride(from: 0, to: examples.count, by: batchSize) {
            let slice = examples[start..<min(start + batchSize, examples.count)]
            let logits = try forward(slice, prompt: prompt)
            for r in 0..<logits.rows { result.append(logSoftmax(Array(logits.row(r)))) }
        }
        return result
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
    /// state for backward.
    func forward(_ examples: ArraySlice<EncodedExample>, prompt: PromptEmbeddings) throws -> Logits {
        guard let readings else {
            try prompted.assemble(examples, prompt: prompt, model: model)
            return try model.forward(inputs: prompted.inputs.pointer, batch: prompted.batch,
                                     head: .lastTokens(of: prompted.batch, vocabulary: verbalizer.firstTokens))
        }
        try prompted.assemble(examples, prompt: prompt, model: model, continuations: readings.continuations)
        let rows = readings.headRows(in: prompted.batch, contextLengths: examples.map { $0.length(promptLength: prompt.length) })
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
