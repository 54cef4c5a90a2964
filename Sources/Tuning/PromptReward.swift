// RLPrompt's reward for a classification prompt (Deng et al. 2022, §2.3): over training examples, the gap
// between the true label's probability and the best other label's, weighted 200 when the prediction is right
// and 180 when it is wrong, averaged; then z-scored across the prompts sampled in a step, so the policy
// learns which of its own prompts beat the others. Legible adds the interpretability terms: −λ·(the prompt's
// log-perplexity under the task model) and −γ·(accuracy lost when the prompt is written out as text and
// tokenized again), each z-scored across the step's prompts like the gap, so λ and γ weigh a term against the
// gap on the same scale whatever the term's units and however much it varies in a step.
import Foundation

public struct GapReward: Sendable, Equatable {
    public var correctWeight: Float = 200
    public var incorrectWeight: Float = 180

    public init() {}

    /// Mean weighted gap and accuracy of one prompt over examples, from their class log-probabilities.
    public func reward(classLogProbabilities: [[Float]], labels: [Int]) -> (reward: Float, accuracy: Double) {
        precondition(classLogProbabilities.count == labels.count && !labels.isEmpty, "one score row per labelled example")
        var total = 0.0, correct = 0
        for (scores, label) in zip(classLogProbabilities, labels) {
            let probabilities = scores.map { Double(Foundation.exp($0)) }
            let others = probabilities.indices.filter { $0 != label }.map { probabilities[$0] }.max() ?? 0
            let gap = probabilities[label] - others
            let isCorrect = gap > 0
            if isCorrect { correct += 1 }
            total += gap * Double(isCorrect ? correctWeight : incorrectWeight)
        }
        return (Float(total / Double(labels.count)), Double(correct) / Double(labels.count))
    }
}

/// (x − mean) / (standard deviation + 1e-4), with the population deviation, as RLPrompt normalizes rewards.
public func zScores(_ x: [Float]) -> [Float] {
    guard !x.isEmpty else { return [] }
    let n = Double(x.count)
    let mean = x.reduce(0.0) { $0 + Double($1) } / n
    let deviation = (x.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
    return x.map { Float((Double($0) - mean) / (deviation + 1e-4)) }
}

/// One sampled prompt's reward and its parts, as logged.
public struct RewardTerms: Codable, Sendable, Equatable {
    /// The weighted gap before normalization, and the batch accuracy behind it.
    public var gap: Float
    public var accuracy: Double
    /// Mean NLL per token of the prompt under the task model (the scrutability measure).
    public var logPerplexity: Float
    /// Batch accuracy with the prompt's ids minus with its text re-tokenized (0 when the ids survive the round trip).
    public var accuracyLost: Double
    /// What the learner sees: scale·z(gap) − λ·z(logPerplexity) − γ·z(accuracyLost), z across the step's samples
    /// (see `learnerRewards`).
    public var total: Float
}

/// The learner's reward for each of a step's S samples: scale·z(gap) − λ·z(logPerplexity) − γ·z(accuracyLost),
/// every term z-scored across the S samples. Left raw, a penalty's pull would depend on how much it happens to
/// vary within the step (log-perplexities spread by several nats one step and a tenth of one the next), while the
/// gap always spreads by one deviation; z-scored, λ = 1 weighs one deviation of log-perplexity as much as
/// 1/scale of a deviation of gap. A term equal for every sample has z = 0: it prefers no sample, as it should.
public func learnerRewards(gaps: [Float], logPerplexities: [Float], accuracyLost: [Double],
                           scale: Float, scrutability λ: Float, faithfulness γ: Float) -> [Float] {
    precondition(gaps.count == logPerplexities.count && gaps.count == accuracyLost.count, "one value of each term per sample")
    let (g, p, a) = (zScores(gaps), zScores(logPerplexities), zScores(accuracyLost.map { Float($0) }))
    return gaps.indices.map { scale * g[$0] - λ * p[$0] - γ * a[$0] }
}
