// The final-normed rows the LM head reads (CausalLM.lastHeadInputs) and the backward that takes a gradient on
// them too, for every architecture on tiny random models (Qwen2's head untied): what FluencyScorer's continuous targets rely on.
import Foundation
import Testing
import Kernels
import Models
import TestSupport

@Suite struct HeadInputsTests {
    enum Architecture: String, CaseIterable { case gpt2, gemma3, qwen2 }

    func model(_ architecture: Architecture) throws -> any CausalLM {
        switch architecture {
        case .gpt2: return try DecoderModel(randomWeightsFor: GPT2BehaviourTests.config, seed: 7)
        case .gemma3: return try DecoderModel(randomWeightsFor: DecoderBehaviourTests.gemma3, seed: 11)
        case .qwen2: return try DecoderModel(randomWeightsFor: DecoderBehaviourTests.qwen2, seed: 11)
        }
    }

    @Test(arguments: Architecture.allCases)
    func theLogitsAreTheHeadInputsTimesTheHead(_ architecture: Architecture) throws {
        let model = try model(architecture), C = model.width
        let batch = RaggedBatch(lengths: [4, 3])
        let inputs = randomArray(batch.tokenCount * C, seed: 1)
        let vocabulary: [Int32] = [3, 0, 17]
        let logits = try model.forward(inputs: inputs, batch: batch, head: HeadRequest(rows: [3, 0, 6], vocabulary: vocabulary))
        for r in 0..<3 {
            for (j, id) in vocabulary.enumerated() {
                let expected = dot(model.lastHeadInputs + r * C, model.headWeights + Int(id) * C, count: C)
                #expect(abs(logits.row(r)[j] - expected) < 1e-5)
            }
        }
    }

    /// d/d(inputs) of Σ w ⊙ logits + Σ u ⊙ lastHeadInputs against central differences (step 1e-2, 2% as in
    /// DecoderBehaviourTests: Float rounding over the step stays far below it).
    @Test(arguments: Architecture.allCases)
    func backwardTakesAGradientOnTheHeadInputs(_ architecture: Architecture) throws {
        let model = try model(architecture), C = model.width
        let batch = RaggedBatch(lengths: [5, 3])
        let head = HeadRequest(rows: [4, 1, 7], vocabulary: [2, 9])
        let inputs = randomArray(batch.tokenCount * C, seed: 2)
        let w = randomArray(3 * 2, seed: 3), u = randomArray(3 * C, seed: 4)
        func objective(_ x: [Float]) throws -> Double {
            let logits = try model.forward(inputs: x, batch: batch, head: head)
            let fromLogits = zip(UnsafeBufferPointer(start: logits.pointer, count: 6), w).reduce(0.0) { $0 + Double($1.0 * $1.1) }
            let rows = UnsafeBufferPointer(start: model.lastHeadInputs, count: 3 * C)
            return fromLogits + zip(rows, u).reduce(0.0) { $0 + Double($1.0 * $1.1) }
        }
        _ = try model.forward(inputs: inputs, batch: batch, head: head)
        let analytic = try Array(UnsafeBufferPointer(start: model.backward(dLogits: w, dHeadInputs: u, mode: .frozenWeights),
                                                     count: inputs.count))
        // Only the head-input term: it must reach the inputs on its own.
        _ = try model.forward(inputs: inputs, batch: batch, head: head)
        let zeros = [Float](repeating: 0, count: 6)
        let alone = try Array(UnsafeBufferPointer(start: model.backward(dLogits: zeros, dHeadInputs: u, mode: .frozenWeights),
                                                  count: inputs.count))
        #expect(alone.contains { $0 != 0 })
        var probe = inputs
        for i in stride(from: 0, to: inputs.count, by: 5) {
            probe[i] = inputs[i] + 1e-2
            let up = try objective(probe)
            probe[i] = inputs[i] - 1e-2
            let down = try objective(probe)
            probe[i] = inputs[i]
            let numeric = (up - down) / 2e-2
            #expect(abs(numeric - Double(analytic[i])) < 0.02 * max(abs(numeric), 0.05), "input \(i): \(numeric) vs \(analytic[i])")
        }
    }
}
