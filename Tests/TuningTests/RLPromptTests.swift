// RLPrompt's parts against direct computations, and the whole learner on a tiny model and task.
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

@Suite struct RLPromptTests {
    /// The path-consistency loss written out plainly in Double, from its definition (no shared code).
    static func directLoss(_ online: [Double], _ target: [Double], actions: [Int], rewards: [Double], L: Int, W: Int) -> Double {
        let S = rewards.count
        let logSumExp = { (row: ArraySlice<Double>) in row.max()! + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - row.max()!) }) }
        func row(_ x: [Double], _ t: Int, _ s: Int) -> ArraySlice<Double> { x[((t * S + s) * W)..<((t * S + s + 1) * W)] }
        var total = 0.0
        for s in 0..<S {
            let A = (0..<L).map { t in online[(t * S + s) * W + actions[t * S + s]] - logSumExp(row(online, t, s)) }
            let V = (0..<L).map { t in logSumExp(row(target, t, s)) }
            for t in 0..<L {
                let single = A[t] - (t == L - 1 ? rewards[s] - V[t] : V[t + 1] - V[t])
                let multi = A[t...].reduce(0, +) - (rewards[s] - V[t])
                total += (single * single + multi * multi) / 2
            }
        }
        return total / Double(S)
    }

    @Test func pathConsistencyLossAndGradientMatchADirectComputation() {
        let (L, S, W) = (3, 2, 5)
        var rng = SeededGenerator(seed: 4)
        var online = (0..<(L * S * W)).map { _ in Double(rng.nextNormal()) }
        online[7] = -.infinity  // a masked-out choice
        let target = (0..<(L * S * W)).map { _ in Double(rng.nextNormal()) }
        let actions = [0, 3, 4, 1, 2, 2], rewards = [1.5, -0.5]
        let gradient = FloatBuffer(count: L * S * W), scratch = FloatBuffer(target.map(Float.init)), logits = FloatBuffer(online.map(Float.init))
        let result = softQLearningLoss(online: logits.pointer, target: scratch.pointer, actions: actions,
                                       rewards: rewards.map(Float.init), steps: L, columns: W, gradient: gradient.pointer)
        let expected = Self.directLoss(online, target, actions: actions, rewards: rewards, L: L, W: W)
        // Float32 arithmetic on O(1) values: 1e-5 relative.
        #expect(abs(Double(result.loss) - expected) < 1e-5 * max(1, abs(expected)))
        // Central differences in Double on the direct form.
        for i in online.indices where online[i].isFinite {
            var plus = online, minus = online
            plus[i] += 1e-6; minus[i] -= 1e-6
            let numeric = (Self.directLoss(plus, target, actions: actions, rewards: rewards, L: L, W: W)
                - Self.directLoss(minus, target, actions: actions, rewards: rewards, L: L, W: W)) / 2e-6
            #expect(abs(Double(gradient[i]) - numeric) < 1e-4, "d/dlogit[\(i)]: \(gradient[i]) vs \(numeric)")
        }
        #expect(abs(gradient[7]) < 1e-30)  // a masked choice gets no gradient
    }

    @Test func polyakAveragingMovesTheTargetByTheRate() {
        let online = PolicyMLP(width: 2, hiddenWidth: 3, parameters: (0..<17).map { Float($0) })
        var target = PolicyMLP(width: 2, hiddenWidth: 3, parameters: [Float](repeating: 1, count: 17))
        target.moveToward(online, rate: 0.25)
        for i in 0..<17 { #expect(abs(target.parameters[i] - (0.75 + 0.25 * Float(i))) < 1e-6) }
    }

    @Test func rewardsAreGapWeightedThenZScored() {
        // Two classes; probabilities 0.8/0.2 (right, gap 0.6 × 200) and 0.3/0.7 for label 0 (wrong, gap −0.4 × 180).
        let scores: [[Float]] = [[log(0.8), log(0.2)], [log(0.3), log(0.7)]]
        let (reward, accuracy) = GapReward().reward(classLogProbabilities: scores, labels: [0, 0])
        #expect(abs(reward - (0.6 * 200 - 0.4 * 180) / 2) < 1e-3)
        #expect(accuracy == 0.5)
        let z = zScores([1, 2, 3, 6])
        let mean = z.reduce(0, +) / 4, variance = z.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / 4
        #expect(abs(mean) < 1e-6 && abs(variance - 1) < 1e-3)
        #expect(abs(z[0] - (1 - 3) / Float(3.5).squareRoot()) < 1e-3)
    }

    @Test func penaltiesAreZScoredLikeTheGap() {
        // By hand, population deviations: gaps 10 20 30 40 (mean 25, deviation √125); log-perplexities 2 4 4 6
        // (mean 4, deviation √2); accuracy lost 0 0 0.5 0 (mean 0.125, deviation √0.046875).
        let gaps: [Float] = [10, 20, 30, 40], perplexities: [Float] = [2, 4, 4, 6], lost = [0, 0, 0.5, 0]
        let zGap = gaps.map { Double($0 - 25) / 125.0.squareRoot() }
        let zPerplexity = perplexities.map { Double($0 - 4) / 2.0.squareRoot() }
        let zLost = lost.map { ($0 - 0.125) / 0.046875.squareRoot() }
        let rewards = learnerRewards(gaps: gaps, logPerplexities: perplexities, accuracyLost: lost, scale: 5, scrutability: 0.5, faithfulness: 2)
        for i in 0..<4 {
            let expected = 5 * zGap[i] - 0.5 * zPerplexity[i] - 2 * zLost[i]
            // zScores adds 1e-4 to the deviation: about 1e-4 relative on each term.
            #expect(abs(Double(rewards[i]) - expected) < 2e-3, "sample \(i): \(rewards[i]) vs \(expected)")
        }
        // λ weighs the spread, not the units: log-perplexities ten times as far apart change nothing.
        let wider = learnerRewards(gaps: gaps, logPerplexities: perplexities.map { 10 * $0 }, accuracyLost: lost,
                                   scale: 5, scrutability: 0.5, faithfulness: 2)
        for i in 0..<4 { #expect(abs(wider[i] - rewards[i]) < 1e-3) }
        // A term equal for every sample prefers none: the gap alone decides.
        let flat = learnerRewards(gaps: gaps, logPerplexities: [7, 7, 7, 7], accuracyLost: [0, 0, 0, 0],
                                  scale: 5, scrutability: 3, faithfulness: 3)
        for i in 0..<4 { #expect(abs(Double(flat[i]) - 5 * zGap[i]) < 2e-3) }
    }

    @Test func theTunersRewardsCombineTheirRawTermsZScored() throws {
        let model = Tiny.model(), task = try Tiny.task(template: TaskTemplate.rlprompt)
        var c = Self.configuration(steps: 1)
        c.scrutability = 0.7; c.faithfulness = 1.5
        let tuner = try RLPromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: c)
        // " The movie is", ",,,", "<|endoftext|>..", " great terrible terrible": log-perplexities far apart.
        let prompts: [[Int32]] = [[383, 3807, 318], [11, 11, 11], [50256, 13, 13], [1049, 7818, 7818]]
        let (terms, _) = try tuner.rewards(for: prompts, examples: Array(0..<6))
        let expected = learnerRewards(gaps: terms.map(\.gap), logPerplexities: terms.map(\.logPerplexity),
                                      accuracyLost: terms.map(\.accuracyLost), scale: c.policy.rewardScale, scrutability: 0.7, faithfulness: 1.5)
        #expect(terms.map(\.total) == expected)
        // The logged terms stay raw: a log-perplexity in nats, not a z-score.
        #expect(terms.allSatisfy { $0.logPerplexity > 0 })
        #expect(abs(terms.reduce(0) { $0 + $1.total }) < 1e-3)
    }

    @Test(arguments: [TaskTemplate.rlprompt, TaskTemplate.pez])
    func cachedPrefixesGiveTheFullForwardsLabelProbabilities(template: String) throws {
        let model = Tiny.model(), task = try Tiny.task(template: template)
        let cached = try CachedPrefixClassifier(model: model, examples: task.train, verbalizer: task.verbalizer, sequencesPerPass: 5)
        let full = PromptClassifier(model: model, verbalizer: task.verbalizer)
        let prompts: [[Int32]] = [[464, 3807, 318], [1110, 11, 257], [50256, 13, 13]]
        let indices = Array(task.train.indices)
        let scores = try cached.labelLogProbabilities(prompts: prompts, examples: indices)
        for (p, prompt) in prompts.enumerated() {
            let reference = try full.labelLogProbabilities(task.train, prompt: model.promptEmbeddings(of: prompt))
            // Same sums in another order (attention split over cached and new keys): float rounding.
            for e in indices { #expect(maxAbsDifference(scores[p][e], reference[e]) < 1e-5) }
        }
    }

    static func configuration(steps: Int) -> TuningConfiguration {
        var c = TuningConfiguration(method: .rlprompt)
        c.promptLength = 2; c.steps = steps; c.batchSize = 12; c.evaluateEvery = 10; c.seed = 2
        c.learningRate = 3e-3  // far above RLPrompt's 5e-5 for 12,000 steps: this run has 60
        c.policy.hiddenWidth = 32; c.policy.samplesPerStep = 8; c.policy.fluentTopK = 6
        return c
    }

    /// On GPT-2 (tied head) and on a Qwen2 whose head is its own tensor: the policy's logits and their gradient go
    /// through the head, not the embeddings.
    @Test(arguments: [false, true])
    func meanRewardRisesOverSeededSteps(untiedHead: Bool) throws {
        let model: any CausalLM = untiedHead ? Tiny.untied() : Tiny.model(), task = try Tiny.task(template: TaskTemplate.rlprompt)
        let tuner = try RLPromptTuner(model: model, tokenizer: Tiny.tokenizer, data: task.tuningData, configuration: Self.configuration(steps: 60))
        var gaps: [Float] = []
        try tuner.run { gaps.append($0.reward!.gap) }
        // z-scored rewards average zero by construction; the raw gap reward is what must grow.
        let early = gaps.prefix(15).reduce(0, +) / 15, late = gaps.suffix(15).reduce(0, +) / 15
        #expect(late > early, "mean gap reward \(early) over the first 15 steps, \(late) over the last 15")
        #expect(tuner.state.best != nil)
    }

    @Test func resumingGivesTheSameRunAsNotStopping() throws {
        let model = Tiny.model(), task = try Tiny.task(template: TaskTemplate.rlprompt)
        let data = task.tuningData
        let straight = try RLPromptTuner(model: model, tokenizer: Tiny.tokenizer, data: data, configuration: Self.configuration(steps: 6))
        var straightRecords: [StepRecord] = []
        try straight.run { straightRecords.append($0) }
        let first = try RLPromptTuner(model: model, tokenizer: Tiny.tokenizer, data: data, configuration: Self.configuration(steps: 3))
        try first.run { _ in }
        let saved = try JSONDecoder().decode(TuningState.self, from: JSONEncoder().encode(first.state))
        let second = try RLPromptTuner(model: model, tokenizer: Tiny.tokenizer, data: data, configuration: Self.configuration(steps: 6), resuming: saved)
        var resumedRecords: [StepRecord] = []
        try second.run { resumedRecords.append($0) }
        #expect(resumedRecords.map(\.ids) == Array(straightRecords.suffix(3)).map(\.ids))
        let a = second.state.policy!.online.values, b = straight.state.policy!.online.values
        // OpenBLAS's process-wide thread count can change a GEMM's split between runs: rounding only.
        #expect(maxAbsDifference(a, b) < 1e-5)
    }

    @Test func aPolicyModelWithAnotherVocabularyIsRefused() throws {
        let task = try Tiny.task(template: TaskTemplate.rlprompt)
        let other = try DecoderModel(randomWeightsFor: GPT2Config(layers: 1, heads: 2, width: 16, positions: 32, vocabularySize: 300), seed: 1)
        #expect(throws: TuningError.self) {
            _ = try RLPromptTuner(model: Tiny.model(), policyModel: other, tokenizer: Tiny.tokenizer, data: task.tuningData,
                                  configuration: Self.configuration(steps: 1))
        }
    }
}
