// The gradients of every tuning objective with respect to the prompt, against central finite differences.
// The forward runs in Float, so steps are 1e-2 (unless a test says why not) and the tolerance 2% of the larger of
// |numeric| and a floor: rounding noise (~1e-7 / 1e-2) is far below that, and these objectives are smooth at this
// scale. The difference divides by the Float spacing actually stepped, not 2h.
import Foundation
import Kernels
import Models
import Reports
import Runs
import Sweeps
import Tasks
import TestSupport
import Testing
@testable import Tuning

func expectGradient(_ analytic: [Float], at prompt: PromptEmbeddings, stride step: Int = 5, floor: Double = 1e-3, h: Float = 1e-2,
                    _ f: (PromptEmbeddings) throws -> Float) throws {
    var probe = prompt
    for i in Swift.stride(from: 0, to: prompt.values.count, by: step) {
        probe.values[i] = prompt.values[i] + h
        let up = Double(try f(probe))
        probe.values[i] = prompt.values[i] - h
        let down = Double(try f(probe))
        probe.values[i] = prompt.values[i]
        let numeric = (up - down) / (Double(probe.values[i] + h) - Double(probe.values[i] - h))
        #expect(abs(numeric - Double(analytic[i])) <= 0.02 * max(abs(numeric), floor), "coordinate \(i): numeric \(numeric), analytic \(analytic[i])")
    }
}

@Suite struct ObjectiveTests {
    let model = Tiny.model()

    func prompt(seed: UInt64 = 4) -> PromptEmbeddings {
        PromptEmbeddings(length: 4, width: 32, values: randomArray(4 * 32, seed: seed, scale: 0.5))
    }

    @Test func taskLossGradient() throws {
        let task = try Tiny.task()
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: 16)
        let examples = Array(task.train.prefix(5))
        let labels = examples.map(\.label)
        let p = prompt()
        let logits = try classifier.forward(examples[...], prompt: p)
        let (_, dLogits, _) = taskLoss(logits, labels: labels)
        var gradient = [Float](repeating: 0, count: p.values.count)
        try dLogits.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: p, into: &gradient) }
        #expect(gradient.contains { $0 != 0 })
        try expectGradient(gradient, at: p, floor: 1e-2) { try taskLoss(classifier.forward(examples[...], prompt: $0), labels: labels).loss }
    }

    @Test func contextScrutabilityGradient() throws {
        let fluency = FluencyScorer(model: model, start: 50256)
        let p = prompt(seed: 5), targets: [Int32] = [464, 3290, 11, 262]
        var gradient = [Float](repeating: 0, count: p.values.count)
        let loss = try gradient.withUnsafeMutableBufferPointer {
            try fluency.loss(prompt: p, targets: targets, weight: 1, gradient: $0.baseAddress!, form: .context)
        }
        #expect(loss > 0)
        try expectGradient(gradient, at: p, floor: 1e-2) { try fluency.loss(prompt: $0, targets: targets, form: .context) }
    }

    /// The continuous-target objective off the token rows (a soft prompt: random vectors), on GPT-2 (embedding
    /// scale 1) and Gemma (√32, which the target logit divides by), against its own value by central differences.
    @Test(arguments: [false, true])
    func fullScrutabilityGradient(gemma: Bool) throws {
        let model: any CausalLM = gemma ? Tiny.gemma() : self.model
        let fluency = FluencyScorer(model: model, start: gemma ? 2 : 50256)
        let p = prompt(seed: 8), targets: [Int32] = gemma ? [7, 31, 4, 18] : [464, 3290, 11, 262]
        var gradient = [Float](repeating: 0, count: p.values.count)
        var contextOnly = gradient
        let loss = try gradient.withUnsafeMutableBufferPointer {
            try fluency.loss(prompt: p, targets: targets, weight: 0.7, gradient: $0.baseAddress!, form: .full)
        }
        try contextOnly.withUnsafeMutableBufferPointer {
            _ = try fluency.loss(prompt: p, targets: targets, weight: 0.7, gradient: $0.baseAddress!, form: .context)
        }
        #expect(loss > 0)
        // Every coordinate here: the last position's row is the part only the target side reaches.
        try expectGradient(gradient, at: p, stride: 1, floor: 1e-2) { try 0.7 * fluency.loss(prompt: $0, targets: targets, form: .full) }
        #expect(relativeError(gradient, contextOnly) > 0.1)
    }

    /// At token embeddings (PEZ's P′) the full form is the plain NLL: same value, and its gradient there checks out
    /// against that value's differences too. Token rows are small (GPT-2's ~0.02, Gemma's ~0.11 after its scale),
    /// so a 1e-2 step bends the first norm too much; 3e-3 cuts that error ~10×, while the loss's Float rounding
    /// (a few ulps of ~4–11, ~3e-6) over 6e-3 stays under the 0.02 × 0.05 floor.
    @Test(arguments: [false, true])
    func fullScrutabilityAtTokenEmbeddingsKeepsTheValue(gemma: Bool) throws {
        let model: any CausalLM = gemma ? Tiny.gemma() : self.model
        let fluency = FluencyScorer(model: model, start: gemma ? 2 : 50256)
        let ids: [Int32] = gemma ? [9, 40, 3, 27] : [40, 588, 428, 3807]
        let projected = try model.promptEmbeddings(of: ids)
        var gradient = [Float](repeating: 0, count: projected.values.count)
        let full = try gradient.withUnsafeMutableBufferPointer { try fluency.loss(prompt: projected, targets: ids, gradient: $0.baseAddress!, form: .full) }
        let context = try fluency.loss(prompt: projected, targets: ids, form: .context)
        // The target's logit as a dot product of (row × s) / s rather than a GEMM column: a few ulps apart.
        #expect(abs(full - context) < 1e-5)
        try expectGradient(gradient, at: projected, stride: 3, floor: 0.05, h: 3e-3) { try fluency.loss(prompt: $0, targets: ids, form: .full) }
    }

    @Test func onlyTheFullFormReachesTheLastPromptVector() throws {
        let fluency = FluencyScorer(model: model, start: 50256)
        let p = prompt(seed: 9), targets: [Int32] = [464, 3290, 11, 262]
        let last = (3 * 32)..<(4 * 32)
        for form in FluencyGradient.allCases {
            var gradient = [Float](repeating: 0, count: p.values.count)
            try gradient.withUnsafeMutableBufferPointer { _ = try fluency.loss(prompt: p, targets: targets, gradient: $0.baseAddress!, form: form) }
            // In the context form nothing reads the last vector: its row stays exactly zero.
            #expect(gradient[last].contains { $0 != 0 } == (form == .full), "\(form)")
            #expect(gradient[0..<(3 * 32)].contains { $0 != 0 })
        }
    }

    @Test func logPerplexityOfTokensIsTheirMeanNegativeLogLikelihood() throws {
        // With the model's own embeddings as inputs, the fluency loss is exactly the text's log-perplexity.
        let fluency = FluencyScorer(model: model, start: 50256)
        let ids: [Int32] = [40, 588, 428, 3807]
        let projector = VocabularyProjector(model: model, allowed: [Bool](repeating: true, count: model.vocabularySize))
        let direct = try fluency.loss(prompt: try projector.embeddings(of: ids), targets: ids, form: .context)
        #expect(try fluency.logPerplexity(of: ids) == direct)
        // And it equals −mean log p(token | prefix) computed from full-sequence next-token distributions.
        let logits = try model.forward(ids: [[50256] + ids]) { .allTokens(of: $0) }
        let manual = (0..<ids.count).reduce(0.0) { total, i in
            let row = logits.row(i), m = Double(row.max()!)
            let logSum = m + Foundation.log(row.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) })
            return total + logSum - Double(row[Int(ids[i])])
        } / Double(ids.count)
        #expect(abs(Double(direct) - manual) < 1e-4)
    }

    @Test func distanceGradient() throws {
        let p = prompt(seed: 6), q = prompt(seed: 7)
        var gradient = [Float](repeating: 0, count: p.values.count)
        _ = projectionDistance(p, q, weight: 0.5, gradient: &gradient)
        // The loss is a sum of squares near 30: its float rounding (~4e-6) over the 2e-2 step sets the floor.
        try expectGradient(gradient, at: p, stride: 1, floor: 0.05) { var g = [Float](repeating: 0, count: $0.values.count); return 0.5 * projectionDistance($0, q, weight: 1, gradient: &g) }
    }

    @Test func klGradients() throws {
        // KL(softmax(a) ‖ softmax(b)) with respect to the logits a and b.
        let a: [Float] = [0.3, -1.2, 2.0], b: [Float] = [1.0, 0.1, -0.5]
        let kl = { (a: [Float], b: [Float]) in klDivergence(p: logSoftmax(a), q: logSoftmax(b)).kl }
        let (_, dA, dB) = klDivergence(p: logSoftmax(a), q: logSoftmax(b))
        for i in 0..<3 {
            var up = a, down = a
            up[i] += 1e-3; down[i] -= 1e-3
            #expect(abs((kl(up, b) - kl(down, b)) / 2e-3 - dA[i]) < 1e-3)
            var upB = b, downB = b
            upB[i] += 1e-3; downB[i] -= 1e-3
            #expect(abs((kl(a, upB) - kl(a, downB)) / 2e-3 - dB[i]) < 1e-3)
        }
        #expect(kl(a, a) == 0)
    }

    @Test func adamWMovesAgainstTheGradientAndClippingBoundsTheNorm() {
        var optimizer = AdamW(learningRate: 0.1, weightDecay: 0)
        var parameters: [Float] = [1, -1]
        optimizer.update(&parameters, gradient: [2, -0.5])
        // The first bias-corrected Adam step moves each coordinate by lr against its gradient's sign.
        #expect(abs(parameters[0] - 0.9) < 1e-6 && abs(parameters[1] + 0.9) < 1e-6)
        // Three more steps against Adam written out in Double (tolerance 1e-6: float32 rounding of values near 1).
        var (m, v, x) = (0.9 * 0 + 0.1 * 2.0, 0.999 * 0 + 0.001 * 4.0, 0.9)
        for (t, g) in [(2, 1.0), (3, -3.0), (4, 0.25)] {
            optimizer.update(&parameters, gradient: [Float(g), 0])
            m = 0.9 * m + 0.1 * g; v = 0.999 * v + 0.001 * g * g
            let mHat = m / (1 - Foundation.pow(0.9, Double(t))), vHat = v / (1 - Foundation.pow(0.999, Double(t)))
            x -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
            #expect(abs(Double(parameters[0]) - x) < 1e-6, "step \(t)")
        }
        var gradient: [Float] = [3, 4]
        #expect(clipGradient(&gradient, maxNorm: 1) == 5)
        #expect(abs(gradient[0] - 0.6) < 1e-6 && abs(gradient[1] - 0.8) < 1e-6)
    }
}
