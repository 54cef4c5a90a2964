// Label probabilities of examples under a prompt: the logits of the verbalizer words at each example's last
// token, normalized over those words only (as PEZ and RLPrompt score classes).
import Foundation
import Kernels
import Models

public final class PromptClassifier {
    public let model: any CausalLM
    public let verbalizer: Verbalizer
    public let batchSize: Int
    private var prompted = PromptedBatch()

    public init(model: any CausalLM, verbalizer: Verbalizer, batchSize: Int = 16) {
        self.model = model; self.verbalizer = verbalizer; self.batchSize = max(1, batchSize)
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

    /// Verbalizer logits (B, classes) at the last token of each example; the model keeps the state for backward.
    func forward(_ examples: ArraySlice<EncodedExample>, prompt: PromptEmbeddings) throws -> Logits {
        try prompted.assemble(examples, prompt: prompt, model: model)
        return try model.forward(inputs: prompted.inputs.pointer, batch: prompted.batch,
                                 head: .lastTokens(of: prompted.batch, vocabulary: verbalizer.firstTokens))
    }

    /// After `forward`: the gradient for the prompt from d(loss)/d(logits).
    func promptGradient(dLogits: UnsafePointer<Float>, prompt: PromptEmbeddings, into gradient: inout [Float]) throws {
        let dInputs = try model.backward(dLogits: dLogits, mode: .frozenWeights)
        prompted.promptGradient(from: dInputs, promptLength: prompt.length, width: prompt.width, into: &gradient)
    }
}

func logSoftmax(_ x: [Float]) -> [Float] {
    let m = x.max() ?? 0
    let logSum = Double(m) + Foundation.log(x.reduce(0.0) { $0 + Foundation.exp(Double($1 - m)) })
    return x.map { Float(Double($0) - logSum) }
}
