// The tuners on a tiny model and task: they lower the training loss, track the best prompt, resume exactly.
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

@Suite struct TunerTests {
    @Test(arguments: [TuningMethod.soft, .pez])
    func tuningLowersTheTrainingLoss(method: TuningMethod) throws {
        let model = Tiny.model(), task = try Tiny.task()
        var configuration = Tiny.configuration(method, steps: 30)
        if method == .pez { configuration.learningRate = 0.05 }
        let tuner = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer)
        let prompt = { try method == .soft ? tuner.continuousPrompt : tuner.projection().embeddings }
        let before = try meanTaskLoss(classifier, task.train, prompt())
        var records: [StepRecord] = []
        try tuner.run { records.append($0) }
        let after = try meanTaskLoss(classifier, task.train, prompt())
        #expect(after < before, "training loss \(before) → \(after)")
        #expect(records.count == 30 && records.map(\.step) == Array(1...30))
        #expect(records.compactMap(\.devAccuracy).count == 6)
        let best = try #require(tuner.state.best)
        #expect(best.devAccuracy == records.compactMap(\.devAccuracy).max())
        // Ties go to the later step.
        let lastBestStep = records.last { $0.devAccuracy == best.devAccuracy }!.step
        #expect(best.step == lastBestStep)
    }

    @Test func anUntiedHeadTakesTheContextFluencyGradientAndRefusesTheFullOne() throws {
        let model = Tiny.untied(), task = try Tiny.task()
        var configuration = Tiny.configuration(.pez, steps: 3)
        configuration.scrutability = 0.5
        configuration.fluencyGradient = .full
        #expect(throws: TuningError.self) {
            _ = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        }
        configuration.fluencyGradient = .context
        let tuner = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        var records: [StepRecord] = []
        try tuner.run { records.append($0) }
        #expect(records.count == 3 && records.allSatisfy { $0.loss.isFinite && $0.scrutabilityLoss > 0 })
    }

    @Test func allTermsTogetherStillTrainAndLogEachTerm() throws {
        let model = Tiny.model(), task = try Tiny.task()
        var configuration = Tiny.configuration(.pez, steps: 3)
        configuration.scrutability = 0.5; configuration.faithfulness = 0.1; configuration.faithfulnessKL = 1
        configuration.langevinTemperature = 1e-4
        let tuner = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        // The first step starts on token embeddings (distance 0); the second has moved off them.
        _ = try tuner.step()
        let record = try tuner.step()
        #expect(record.scrutabilityLoss > 0 && record.faithfulnessLoss > 0 && record.klLoss >= 0)
        #expect(abs(record.loss - (record.taskLoss + 0.5 * record.scrutabilityLoss + 0.1 * record.faithfulnessLoss + record.klLoss)) < 1e-4)
        // Each term's gradient norm, and the summed gradient's within what the triangle inequality allows.
        let norms = try #require(record.termGradientNorms)
        let parts = [norms.task, try #require(norms.scrutability), try #require(norms.faithfulness), try #require(norms.kl)]
        #expect(parts.allSatisfy { $0 > 0 })
        #expect(record.gradientNorm <= parts.reduce(0, +) * (1 + 1e-5))
        let line = String(decoding: try JSONEncoder().encode(record), as: UTF8.self)
        #expect(line.contains("\"termGradientNorms\":{") && line.contains("\"faithfulness\":"))
        // Terms that are off log no norm.
        let plain = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: Tiny.configuration(.pez, steps: 1))
        let plainNorms = try #require(try plain.step().termGradientNorms)
        #expect(plainNorms.task > 0 && plainNorms.scrutability == nil && plainNorms.faithfulness == nil && plainNorms.kl == nil)
    }

    /// PEZ's defining step: the gradient is taken at the projection P′ and applied to the continuous P. The
    /// expected P comes from PromptClassifier's gradient at P′ and the tuner's own AdamW state, with no noise
    /// (Langevin 0). Tolerance 1e-6 (1e-4 · lr): AdamW's step lr · m̂ / (√v̂ + ε) moves by about lr times the
    /// gradient's relative error, and the two gradients differ only in OpenBLAS's thread-dependent summation order
    /// (~1e-6 relative); the gradient at P instead of P′ lands more than 100 times farther away.
    @Test func aPEZStepTakesTheGradientAtTheProjectionAndStepsOnTheContinuousPrompt() throws {
        let model = Tiny.model(), task = try Tiny.task()
        let configuration = Tiny.configuration(.pez, steps: 10)
        let tuner = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        // Two steps first: P leaves its tokens (at step 0 P = P′) and AdamW's moments fill.
        _ = try tuner.step(); _ = try tuner.step()
        let p = tuner.continuousPrompt, projected = try tuner.projection().embeddings
        #expect(maxAbsDifference(p.values, projected.values) > 1e-3)
        let examples = tuner.batch(at: tuner.state.step)
        let classifier = PromptClassifier(model: model, verbalizer: task.verbalizer, batchSize: configuration.batchSize)
        func stepOnP(gradientAt point: PromptEmbeddings) throws -> [Float] {
            let logits = try classifier.forward(examples[...], prompt: point)
            let (_, dLogits, _) = taskLoss(logits, labels: examples.map(\.label))
            var gradient = [Float](repeating: 0, count: p.values.count)
            try dLogits.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: point, into: &gradient) }
            clipGradient(&gradient, maxNorm: configuration.maxGradientNorm)
            var optimizer = tuner.state.optimizer, next = p.values
            optimizer.update(&next, gradient: gradient)
            return next
        }
        let expected = try stepOnP(gradientAt: projected), wrong = try stepOnP(gradientAt: p)
        _ = try tuner.step()
        #expect(maxAbsDifference(tuner.state.prompt, expected) < 1e-6)
        #expect(maxAbsDifference(wrong, expected) > 1e-4)
    }

    @Test func langevinTemperatureDecaysGeometricallyFromItsStartToTheFloor() {
        var c = Tiny.configuration(.pez, steps: 11)
        c.langevinTemperature = 0.5
        #expect(c.langevinTemperature(atStep: 0) == 0.5)
        #expect(abs(c.langevinTemperature(atStep: 10) - 1e-4) < 1e-10)
        // Geometric: one ratio, (1e-4 / 0.5)^(1/10), between consecutive steps (to Float rounding).
        let ratio = Foundation.pow(1e-4 / 0.5, 0.1)
        for t in 0..<10 {
            let r = Double(c.langevinTemperature(atStep: t + 1)) / Double(c.langevinTemperature(atStep: t))
            #expect(abs(r / ratio - 1) < 1e-6, "step \(t)")
        }
        #expect(c.langevinTemperature(atStep: 25) == c.langevinTemperature(atStep: 10))
        c.steps = 1
        #expect(c.langevinTemperature(atStep: 0) == 0.5)
        // Below the floor it stays constant; 0 is off at every step.
        c.steps = 11; c.langevinTemperature = 1e-5
        #expect((0..<11).allSatisfy { c.langevinTemperature(atStep: $0) == 1e-5 })
        c.langevinTemperature = 0
        #expect((0..<11).allSatisfy { c.langevinTemperature(atStep: $0) == 0 })
    }

    /// The noise lands on P after the AdamW step, at √(2 · lr · β₀) per coordinate on the first step, and the next
    /// step projects the noisy P. (With Langevin 0 the step is AdamW's alone: see the PEZ step test above.)
    @Test func langevinNoiseFollowsTheStepAndIsWhatTheNextStepProjects() throws {
        let model = Tiny.model(), task = try Tiny.task()
        let quiet = Tiny.configuration(.pez, steps: 5)
        var noisy = quiet
        noisy.langevinTemperature = 10
        let a = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: quiet)
        let b = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: noisy)
        _ = try a.step(); _ = try b.step()
        // Same start, batch and gradient: the difference is the noise. Its RMS over 128 coordinates is within a few
        // percent of the standard deviation (one seeded draw, so the test is deterministic).
        let difference = zip(b.state.prompt, a.state.prompt).map { Double($0 - $1) }
        let rms = (difference.reduce(0) { $0 + $1 * $1 } / Double(difference.count)).squareRoot()
        #expect(abs(rms / (2 * 0.01 * 10).squareRoot() - 1) < 0.2, "RMS \(rms)")
        let noisyIds = try b.currentIds()
        #expect(try noisyIds != a.currentIds())
        #expect(try b.step().ids == noisyIds)
    }

    @Test func configurationsSavedBeforeTheFluencyGradientOptionReadAsContext() throws {
        let configuration = TuningConfiguration()
        #expect(configuration.fluencyGradient == .full)
        let data = try JSONEncoder().encode(configuration)
        #expect(try JSONDecoder().decode(TuningConfiguration.self, from: data) == configuration)
        var object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["fluencyGradient"] = nil
        let old = try JSONDecoder().decode(TuningConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        var expected = configuration
        expected.fluencyGradient = .context
        #expect(old == expected)
    }

    @Test func resumingGivesTheSameRunAsNotStopping() throws {
        let model = Tiny.model(), task = try Tiny.task()
        let configuration = Tiny.configuration(.pez, steps: 8)
        let straight = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        try straight.run { _ in }
        var shortened = configuration
        shortened.steps = 4
        let first = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: shortened)
        try first.run { _ in }
        // Through JSON, as the run directory stores it.
        let saved = try JSONDecoder().decode(TuningState.self, from: JSONEncoder().encode(first.state))
        let second = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration, resuming: saved)
        try second.run { _ in }
        // Same steps, same batches, same tokens. The floats agree to rounding only: OpenBLAS's thread count is
        // process-wide, and tests running beside this one change how a GEMM is split, hence its last bits.
        #expect(relativeError(second.state.prompt, straight.state.prompt) < 1e-5)
        #expect(second.state.best?.ids == straight.state.best?.ids && second.state.best?.step == straight.state.best?.step)
        #expect(relativeError(second.state.optimizer.m, straight.state.optimizer.m) < 1e-4)
        #expect(second.state.optimizer.step == straight.state.optimizer.step)
    }

    @Test func initializations() throws {
        let model = Tiny.model(), task = try Tiny.task()
        var configuration = Tiny.configuration(.pez)
        configuration.initialization = .classWords
        let classWords = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        #expect(try classWords.projection().ids == task.verbalizer.firstTokens + task.verbalizer.firstTokens)
        configuration.initialization = .text(" this movie is")
        #expect(throws: TuningError.initialPromptLength(text: " this movie is", tokens: 3, expected: 4)) {
            try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        }
        configuration.initialization = .text(" this movie is really")
        let text = try PromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: configuration)
        #expect(Tiny.tokenizer.decode(try text.projection().ids) == " this movie is really")
    }
}
