// The tuning loop for soft prompts and PEZ. Each step: project the continuous prompt P to its nearest tokens
// P′, run the task batch with the prompt the method trains on (P for soft, P′ for PEZ), add the scrutability
// and faithfulness terms, clip, take an AdamW step on P and add any Langevin noise, which the next projection
// sees. The best prompt by dev accuracy is kept (ties go to the later step;
// `--select dev-loss` picks by dev loss instead). State is plain data, so a run can
// stop after any step and resume exactly.
import Foundation
import Kernels
import Models
import Tokenizers

public struct TuningData: Sendable {
    public var train: [EncodedExample]
    public var dev: [EncodedExample]
    public var verbalizer: Verbalizer
    /// The template has text before the prompt, so a person types the prompt after a space ("{sentence} {prompt}").
    public var promptFollowsText: Bool

    public init(train: [EncodedExample], dev: [EncodedExample], verbalizer: Verbalizer, promptFollowsText: Bool = false) {
        self.train = train; self.dev = dev; self.verbalizer = verbalizer; self.promptFollowsText = promptFollowsText
    }
}

public struct BestPrompt: Codable, Sendable, Equatable {
    public var step: Int
    public var devAccuracy: Double
    public var ids: [Int32]
    public var values: [Float]
    /// Dev loss as `--select dev-loss` defines it (absent in runs selected by accuracy before it existed).
    public var devLoss: Double?
}

public struct TuningState: Codable, Sendable, Equatable {
    public var step = 0
    /// The continuous prompt P, (n, C) row-major in the model's input-embedding space.
    public var prompt: [Float]
    public var optimizer: AdamW
    public var best: BestPrompt?
    public var seconds = 0.0
    /// RLPrompt's policy and target networks; nil for the embedding-space tuners.
    public var policy: PolicyState?
    /// gcg: the current prompt's token ids, and the best prompts found so far (for trajectory retrieval).
    public var ids: [Int32]?
    public var trajectory: [ScoredPrompt]?
}

extension BestPrompt {
    /// After a dev evaluation of the prompt at `step`: replaces `best` when `selection` prefers it, and writes the dev
    /// fields of the step's record. Every tuner keeps its best prompt this one way.
    static func keep(step: Int, accuracy: Double, loss: Double?, ids: [Int32], values: [Float], selection: PromptSelection,
                     in best: inout BestPrompt?, record: inout StepRecord, tokenizer: any Tokenizer) {
        if selection.prefers(accuracy: accuracy, loss: loss, over: best) {
            best = BestPrompt(step: step, devAccuracy: accuracy, ids: ids, values: values, devLoss: loss)
        }
        record.devAccuracy = accuracy
        record.devLoss = loss
        record.bestDevAccuracy = best?.devAccuracy
        record.bestText = best.map { tokenizer.decode($0.ids) }
    }
}

/// A prompt and its objective on the batch where it was accepted.
public struct ScoredPrompt: Codable, Sendable, Equatable {
    public var ids: [Int32]
    public var objective: Float
}

public struct PolicyState: Codable, Sendable, Equatable {
    public var online: PackedFloats
    public var target: PackedFloats
}

/// What one step did, for the progress line and log.jsonl.
public struct StepRecord: Codable, Sendable {
    public var step: Int
    public var loss: Float
    public var taskLoss: Float
    public var scrutabilityLoss: Float
    public var faithfulnessLoss: Float
    public var klLoss: Float
    /// L2 norm of the summed gradient before clipping.
    public var gradientNorm: Float
    /// Soft and PEZ: each term's share of that gradient; nil for RLPrompt.
    public var termGradientNorms: TermGradientNorms?
    public var batchAccuracy: Double
    public var ids: [Int32]
    public var text: String
    public var devAccuracy: Double?
    public var bestDevAccuracy: Double?
    public var bestText: String?
    public var seconds: Double
    /// RLPrompt: what the sampled prompts earned, averaged over them.
    public var reward: RewardSummary?
    /// gcg: what the step's search did.
    public var search: SearchSummary?
    /// gcg: the changes accepted this step; written to edits.jsonl, not to log.jsonl.
    public var edits: [PromptEdit]?
    /// Dev loss when the step was evaluated with `--select dev-loss`.
    public var devLoss: Double?
}

public struct SearchSummary: Codable, Sendable, Equatable {
    /// Distinct candidates scored, and the positions each could change (the edit budget's n_t).
    public var candidates: Int
    public var editBudget: Int
    public var accepted: Bool
    /// The objective's terms on the step's batch: the prompt the step started from and the one it ends with.
    public var before: ObjectiveTerms
    public var after: ObjectiveTerms
}

/// L2 norms of each loss term's weighted gradient for P (its weight included), before clipping: which term steers
/// the step. nil where the term's weight is 0.
public struct TermGradientNorms: Codable, Sendable, Equatable {
    public var task: Float
    /// λ · scrutability, in the configuration's FluencyGradient form.
    public var scrutability: Float?
    /// γ · ‖P − P′‖².
    public var faithfulness: Float?
    /// κ · KL(soft ‖ projected), through both prompts.
    public var kl: Float?
}

public struct RewardSummary: Codable, Sendable, Equatable {
    /// Means over the step's samples of each term (see RewardTerms).
    public var gap: Float
    public var logPerplexity: Float
    public var accuracyLost: Double?
    /// The learner's rewards averaged: 0 up to rounding, since every term is z-scored across the samples.
    public var total: Float
    /// Samples whose text, tokenized again, gives other ids.
    public var retokenizationChanged: Int
    /// The step's best sample by total reward.
    public var bestSample: String
    public var bestSampleGap: Float
}

/// Indices of the training examples of step s: consecutive slices of a seeded shuffle, reshuffled each epoch.
func trainingBatch(at step: Int, of count: Int, configuration: TuningConfiguration) -> [Int] {
    let size = min(configuration.batchSize, count)
    let perEpoch = max(1, count / size)
    let epoch = step / perEpoch, offset = (step % perEpoch) * size
    var rng = SeededGenerator(seed: configuration.seed &+ UInt64(epoch) &* 0x9E37)
    return Array(Array(0..<count).shuffled(using: &rng)[offset..<(offset + size)])
}

/// What a tuning job needs of a tuner: its resumable state, its steps, and the prompt it would hand out now.
public protocol PromptSearch: AnyObject {
    var state: TuningState { get }
    func run(onStep: (StepRecord) throws -> Void) throws
    /// Token ids of the current prompt (PEZ: the projection; RLPrompt: the greedy decoding).
    func currentIds() throws -> [Int32]
}

public final class PromptTuner: PromptSearch {
    public let model: any CausalLM
    public let tokenizer: any Tokenizer
    public let data: TuningData
    public let configuration: TuningConfiguration
    public private(set) var state: TuningState
    public let projector: VocabularyProjector
    let classifier: PromptClassifier
    let fluency: FluencyScorer

    /// `sharesStart` false runs every training sequence whole (see PromptClassifier.sharesStart): only to measure.
    public init(model: any CausalLM, tokenizer: any Tokenizer, data: TuningData, configuration: TuningConfiguration,
                resuming state: TuningState? = nil, sharesStart: Bool = true) throws {
        try configuration.validate()
        guard !data.train.isEmpty else { throw TuningError.emptyTrainingSet }
        // MuCoLa's continuous targets put prompt vectors where the head's rows are: only a tied head has them there.
        if configuration.fluencyGradient == .full, configuration.scrutability > 0, !model.isHeadTied {
            throw TuningError.invalidConfiguration("the full fluency gradient lets each prompt vector stand in for its token's output row, which needs an LM head tied to the embeddings; this model's head is untied: use --fluency-gradient context")
        }
        self.model = model; self.tokenizer = tokenizer; self.data = data; self.configuration = configuration
        projector = VocabularyProjector(model: model, metric: configuration.metric,
                                        allowed: configuration.filter.allowed(tokenizer: tokenizer, vocabularySize: model.vocabularySize))
        classifier = PromptClassifier(model: model, verbalizer: data.verbalizer, batchSize: configuration.batchSize, sharesStart: sharesStart)
        fluency = FluencyScorer(model: model, start: tokenizer.specialTokens.beginningOfSequence ?? tokenizer.specialTokens.endOfText ?? 0)
        if let state {
            self.state = state
        } else {
            let initial = try Self.initialIds(configuration, data: data, tokenizer: tokenizer, allowed: projector.allowed)
            let prompt = try projector.embeddings(of: initial)
            self.state = TuningState(prompt: prompt.values,
                                     optimizer: AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay))
        }
    }

    static func initialIds(_ c: TuningConfiguration, data: TuningData, tokenizer: any Tokenizer, allowed: [Bool]) throws -> [Int32] {
        switch c.initialization {
        case .randomTokens:
            var rng = SeededGenerator(seed: c.seed &+ 0x5EED)
            let candidates = allowed.indices.filter { allowed[$0] }
            return (0..<c.promptLength).map { _ in Int32(candidates[Int(rng.next() % UInt64(candidates.count))]) }
        case .text(let text):
            let ids = tokenizer.encode(text)
            guard ids.count == c.promptLength else {
                throw TuningError.initialPromptLength(text: text, tokens: ids.count, expected: c.promptLength)
            }
            return ids
        case .classWords:
            return (0..<c.promptLength).map { data.verbalizer.firstTokens[$0 % data.verbalizer.classCount] }
        case .manualPrompt:
            throw TuningError.invalidConfiguration("the manual-prompt start is resolved to its text by the run, which knows the task")
        }
    }

    public var continuousPrompt: PromptEmbeddings {
        PromptEmbeddings(length: configuration.promptLength, width: model.width, values: state.prompt)
    }

    /// Nearest allowed tokens of the current prompt, and their embeddings P′.
    public func projection() throws -> (ids: [Int32], embeddings: PromptEmbeddings) {
        let ids = projector.nearest(continuousPrompt).map(\.id)
        return (ids, try projector.embeddings(of: ids))
    }

    public func currentIds() throws -> [Int32] { try projection().ids }

    func batch(at step: Int) -> [EncodedExample] {
        trainingBatch(at: step, of: data.train.count, configuration: configuration).map { data.train[$0] }
    }

    /// Runs steps until `configuration.steps`; `onStep` may throw to stop between steps (the state is whole).
    public func run(onStep: (StepRecord) throws -> Void) throws {
        while state.step < configuration.steps {
            let record = try step()
            try onStep(record)
        }
    }

    /// One optimization step.
    public func step() throws -> StepRecord {
        let started = Date()
        let c = configuration, n = c.promptLength, C = model.width
        let soft = continuousPrompt
        let (ids, projected) = try projection()
        let trained = c.method == .soft ? soft : projected
        let other = c.method == .soft ? projected : soft
        let examples = batch(at: state.step)
        let labels = examples.map(\.label)
        // Each term's weighted gradient for P (n, C), kept apart for its norm in the log; the step takes their sum.
        let zeros = [Float](repeating: 0, count: n * C)
        var taskGradient = zeros, klGradient = zeros, scrutabilityGradient = zeros, faithfulnessGradient = zeros

        // KL(soft ‖ projected) needs the other prompt's label distribution first.
        var otherScores: [[Float]] = []
        if c.faithfulnessKL > 0 { otherScores = try classifier.labelLogProbabilities(examples, prompt: other) }

        let logits = try classifier.forward(examples[...], prompt: trained)
        let (task, dTask, correct) = taskLoss(logits, labels: labels)
        var kl: Float = 0
        var dKL: [Float] = [], dOther: [Float] = []
        if c.faithfulnessKL > 0 {
            let K = data.verbalizer.classCount, B = Float(examples.count)
            dKL = [Float](repeating: 0, count: dTask.count)
            for b in 0..<examples.count {
                let trainedRow = logSoftmax(Array(logits.row(b)))
                let (p, q) = c.method == .soft ? (trainedRow, otherScores[b]) : (otherScores[b], trainedRow)
                let (value, dP, dQ) = klDivergence(p: p, q: q)
                kl += value / B
                let (dTrained, dOtherRow) = c.method == .soft ? (dP, dQ) : (dQ, dP)
                for k in 0..<K { dKL[b * K + k] = c.faithfulnessKL * dTrained[k] / B }
                dOther += dOtherRow.map { c.faithfulnessKL * $0 / B }
            }
        }
        try dTask.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: trained, into: &taskGradient) }
        if c.faithfulnessKL > 0 {
            // A second backward through the same forward keeps KL's share apart from the task's (backward is
            // linear in dLogits; this is the logged norms' one extra cost).
            try dKL.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: trained, into: &klGradient) }
            _ = try classifier.forward(examples[...], prompt: other)
            try dOther.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: other, into: &klGradient) }
        }

        // Scrutability of the trained prompt with the projected ids as targets. PEZ: the fluency of P′ itself.
        // Soft, in the full form: the continuous-target NLL of P (each P_i standing in for its nearest token's
        // output row), so the target side pulls each P_i toward what the model expects after P_<i; the ids only
        // choose which vocabulary row each P_i replaces in the softmax.
        var scrutability: Float = 0
        if c.scrutability > 0 {
            scrutability = try scrutabilityGradient.withUnsafeMutableBufferPointer {
                try fluency.loss(prompt: trained, targets: ids, weight: c.scrutability, gradient: $0.baseAddress!, form: c.fluencyGradient)
            }
        }
        var distance: Float = 0
        if c.faithfulness > 0 { distance = projectionDistance(soft, projected, weight: c.faithfulness, gradient: &faithfulnessGradient) }

        let terms = TermGradientNorms(task: l2Norm(taskGradient),
                                      scrutability: c.scrutability > 0 ? l2Norm(scrutabilityGradient) : nil,
                                      faithfulness: c.faithfulness > 0 ? l2Norm(faithfulnessGradient) : nil,
                                      kl: c.faithfulnessKL > 0 ? l2Norm(klGradient) : nil)
        var gradient = taskGradient
        for i in gradient.indices { gradient[i] += klGradient[i] + scrutabilityGradient[i] + faithfulnessGradient[i] }
        let norm = clipGradient(&gradient, maxNorm: c.maxGradientNorm)
        var prompt = state.prompt
        state.optimizer.update(&prompt, gradient: gradient)
        // Langevin noise after the step, before the next projection (see LangevinNoise.swift).
        let temperature = c.langevinTemperature(atStep: state.step)
        if temperature > 0 {
            addLangevinNoise(to: &prompt, learningRate: c.learningRate, temperature: temperature,
                             seed: c.seed &+ UInt64(state.step) &* 0xA5A5)
        }
        state.prompt = prompt
        state.step += 1

        var record = StepRecord(
            step: state.step, loss: task + c.scrutability * scrutability + c.faithfulness * distance + c.faithfulnessKL * kl,
            taskLoss: task, scrutabilityLoss: scrutability, faithfulnessLoss: distance, klLoss: kl, gradientNorm: norm,
            termGradientNorms: terms, batchAccuracy: Double(correct) / Double(examples.count), ids: ids, text: tokenizer.decode(ids),
            devAccuracy: nil, bestDevAccuracy: state.best?.devAccuracy, bestText: state.best.map { tokenizer.decode($0.ids) },
            seconds: 0)
        if state.step % c.evaluateEvery == 0 || state.step == c.steps { try evaluate(&record) }
        state.seconds += Date().timeIntervalSince(started)
        record.seconds = state.seconds
        return record
    }

    /// Dev accuracy of the prompt the method would hand out after this step, and the best-so-far bookkeeping.
    private func evaluate(_ record: inout StepRecord) throws {
        let (ids, projected) = try projection()
        let candidate = configuration.method == .soft ? continuousPrompt : projected
        var accuracy = 0.0, loss: Double?
        if !data.dev.isEmpty {
            let scores = try classifier.labelLogProbabilities(data.dev, prompt: candidate)
            accuracy = PromptClassifier.accuracy(scores, data.dev)
            if configuration.selection == .devLoss {
                let task = crossEntropy(scores, labels: data.dev.map(\.label)).loss
                let fluent = configuration.scrutability > 0 ? try fluency.logPerplexity(of: ids) : 0
                loss = Double(task + configuration.scrutability * fluent)
            }
        }
        BestPrompt.keep(step: state.step, accuracy: accuracy, loss: loss, ids: ids, values: state.prompt,
                        selection: configuration.selection, in: &state.best, record: &record, tokenizer: tokenizer)
    }
}
