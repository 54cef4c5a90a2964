// The tuning loop for soft prompts and PEZ. Each step: project the continuous prompt P to its nearest tokens
// P′, run the task batch with the prompt the method trains on (P for soft, P′ for PEZ), add the scrutability
// and faithfulness terms, clip, and take an AdamW step on P. The best prompt by dev accuracy is kept (ties go
// to the later step). State is plain data, so a run can stop after any step and resume exactly.
import Foundation
import Kernels
import Models
import Tokenizers

public struct TuningData: Sendable {
    public var train: [EncodedExample]
    public var dev: [EncodedExample]
    public var verbalizer: Verbalizer

    public init(train: [EncodedExample], dev: [EncodedExample], verbalizer: Verbalizer) {
        self.train = train; self.dev = dev; self.verbalizer = verbalizer
    }
}

public struct BestPrompt: Codable, Sendable, Equatable {
    public var step: Int
    public var devAccuracy: Double
    public var ids: [Int32]
    public var values: [Float]
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
    public var gradientNorm: Float
    public var batchAccuracy: Double
    public var ids: [Int32]
    public var text: String
    public var devAccuracy: Double?
    public var bestDevAccuracy: Double?
    public var bestText: String?
    public var seconds: Double
    /// RLPrompt: what the sampled prompts earned, averaged over them.
    public var reward: RewardSummary?
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

    public init(model: any CausalLM, tokenizer: any Tokenizer, data: TuningData, configuration: TuningConfiguration,
                resuming state: TuningState? = nil) throws {
        try configuration.validate()
        guard !data.train.isEmpty else { throw TuningError.emptyTrainingSet }
        self.model = model; self.tokenizer = tokenizer; self.data = data; self.configuration = configuration
        projector = VocabularyProjector(model: model, metric: configuration.metric,
                                        allowed: configuration.filter.allowed(tokenizer: tokenizer, vocabularySize: model.vocabularySize))
        classifier = PromptClassifier(model: model, verbalizer: data.verbalizer, batchSize: configuration.batchSize)
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
            return (0..<c.promptLength).map { data.verbalizer.ids[$0 % data.verbalizer.classCount] }
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
        var gradient = [Float](repeating: 0, count: n * C)

        // KL(soft ‖ projected) needs the other prompt's label distribution first.
        var otherScores: [[Float]] = []
        if c.faithfulnessKL > 0 { otherScores = try classifier.labelLogProbabilities(examples, prompt: other) }

        let logits = try classifier.forward(examples[...], prompt: trained)
        var (task, dLogits, correct) = taskLoss(logits, labels: labels)
        var kl: Float = 0
        var dOther: [Float] = []
        if c.faithfulnessKL > 0 {
            let K = data.verbalizer.classCount, B = Float(examples.count)
            for b in 0..<examples.count {
                let trainedRow = logSoftmax(Array(logits.row(b)))
                let (p, q) = c.method == .soft ? (trainedRow, otherScores[b]) : (otherScores[b], trainedRow)
                let (value, dP, dQ) = klDivergence(p: p, q: q)
                kl += value / B
                let (dTrained, dOtherRow) = c.method == .soft ? (dP, dQ) : (dQ, dP)
                for k in 0..<K { dLogits[b * K + k] += c.faithfulnessKL * dTrained[k] / B }
                dOther += dOtherRow.map { c.faithfulnessKL * $0 / B }
            }
        }
        try dLogits.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: trained, into: &gradient) }
        if c.faithfulnessKL > 0 {
            _ = try classifier.forward(examples[...], prompt: other)
            try dOther.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: other, into: &gradient) }
        }

        var scrutability: Float = 0
        if c.scrutability > 0 {
            scrutability = try gradient.withUnsafeMutableBufferPointer {
                try fluency.loss(prompt: trained, targets: ids, weight: c.scrutability, gradient: $0.baseAddress!)
            }
        }
        var distance: Float = 0
        if c.faithfulness > 0 { distance = projectionDistance(soft, projected, weight: c.faithfulness, gradient: &gradient) }

        let norm = clipGradient(&gradient, maxNorm: c.maxGradientNorm)
        var prompt = state.prompt
        state.optimizer.update(&prompt, gradient: gradient)
        state.prompt = prompt
        if c.langevinTemperature > 0 { addLangevinNoise() }
        state.step += 1

        var record = StepRecord(
            step: state.step, loss: task + c.scrutability * scrutability + c.faithfulness * distance + c.faithfulnessKL * kl,
            taskLoss: task, scrutabilityLoss: scrutability, faithfulnessLoss: distance, klLoss: kl, gradientNorm: norm,
            batchAccuracy: Double(correct) / Double(examples.count), ids: ids, text: tokenizer.decode(ids),
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
        let accuracy = data.dev.isEmpty ? 0 : try classifier.accuracy(data.dev, prompt: candidate)
        if accuracy >= (state.best?.devAccuracy ?? -1) {
            state.best = BestPrompt(step: state.step, devAccuracy: accuracy, ids: ids, values: state.prompt)
        }
        record.devAccuracy = accuracy
        record.bestDevAccuracy = state.best?.devAccuracy
        record.bestText = state.best.map { tokenizer.decode($0.ids) }
    }

    /// FluentPrompt's Langevin term: Gaussian noise of variance 2·lr·temperature on every coordinate.
    private func addLangevinNoise() {
        var rng = SeededGenerator(seed: configuration.seed &+ UInt64(state.step) &* 0xA5A5)
        let scale = (2 * configuration.learningRate * configuration.langevinTemperature).squareRoot()
        for i in state.prompt.indices { state.prompt[i] += scale * rng.nextNormal() }
    }
}
