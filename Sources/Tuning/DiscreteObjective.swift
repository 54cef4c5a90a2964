// The objective a discrete prompt search minimizes, scored exactly on each candidate (ARCA, "evil twins"):
//   objective = task + λ · (log-perplexity + repetition)
// task: mean cross-entropy of the true label over the batch's verbalizer distribution (nats);
// log-perplexity: the prompt's mean NLL per token under the model after the start token (nats), the
// scrutability measure of reports; repetition: ρ nats for each token that repeats an earlier one, spread over
// the prompt's n tokens (ρ · repeats / n). A model copies a token it has just seen cheaply, so without the
// penalty "is is is is is" buys fluency it does not have; ρ ≈ what copying saves per token.

public struct ObjectiveTerms: Codable, Sendable, Equatable {
    public var task: Float
    public var logPerplexity: Float
    public var repetition: Float
    public var total: Float

    public init(task: Float, logPerplexity: Float, repetition: Float, scrutability λ: Float) {
        self.task = task; self.logPerplexity = logPerplexity; self.repetition = repetition
        total = task + λ * (logPerplexity + repetition)
    }

    enum CodingKeys: String, CodingKey {
        case task, logPerplexity = "log_ppl", repetition, total
    }
}

/// ρ · (tokens equal to an earlier token) / n.
public func repetitionPenalty(_ ids: [Int32], nats ρ: Float) -> Float {
    guard !ids.isEmpty, ρ != 0 else { return 0 }
    var seen = Set<Int32>(), repeats = 0
    for id in ids { if !seen.insert(id).inserted { repeats += 1 } }
    return ρ * Float(repeats) / Float(ids.count)
}

/// Mean cross-entropy of the true labels from class log-probabilities, and how many are predicted right.
public func crossEntropy(_ scores: [[Float]], labels: [Int]) -> (loss: Float, correct: Int) {
    precondition(scores.count == labels.count && !labels.isEmpty, "one score row per labelled example")
    var total = 0.0, correct = 0
    for (row, label) in zip(scores, labels) {
        total -= Double(row[label])
        if PromptClassifier.predicted(row) == label { correct += 1 }
    }
    return (Float(total / Double(labels.count)), correct)
}

extension PromptSelection {
    /// Whether a prompt evaluated now replaces the best so far (ties go to the later step).
    public func prefers(accuracy: Double, loss: Double?, over best: BestPrompt?) -> Bool {
        guard let best else { return true }
        switch self {
        case .devAccuracy: return accuracy >= best.devAccuracy
        case .devLoss: return (loss ?? .infinity) <= (best.devLoss ?? .infinity)
        }
    }
}
