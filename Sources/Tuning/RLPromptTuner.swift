// RLPrompt (Deng et al. 2022) for few-shot classification: a policy — a frozen language model, a trainable
// MLP on its last hidden state, the frozen tied output embedding — writes prompts token by token from the
// start token. Each step it samples prompts (top-k), rewards each on a batch of training examples (gap reward
// minus the scrutability and faithfulness penalties, each term z-scored across the step's prompts), and takes an Adam step on the soft
// Q-learning loss against a Polyak-averaged target network. Evaluation decodes greedily; the best greedy
// prompt by dev accuracy is kept. State is plain data, so a run stops after any step and resumes exactly.
// Dimensions: S samples per step, L prompt length, C width, V vocabulary, W columns of a logit row (V, or the
// fluent top-k).
import Foundation
import Kernels
import Models
import Tokenizers

/// The prompts of one rollout and what the learner needs of it; its logits, frozen states and MLP activations
/// are in the tuner's workspace until the next rollout.
struct Rollout {
    var ids: [[Int32]]             // S × L
    var actions: [Int]             // (L·S) column of the chosen token in its logit row
    var candidates: [[Int32]]?     // (L·S) a row's choosable tokens under --fluent-top-k; nil: the whole vocabulary
    var columns: Int               // W
}

/// Buffers reused from step to step.
struct RLPromptWorkspace {
    var logits = GrowableBuffer(), states = GrowableBuffer()              // (L·S, W) online Q-values, (L·S, C) frozen states
    var inputs = GrowableBuffer(), frozenLogits = GrowableBuffer()        // (S, C), (S, V) for the fluent mask
    var targetLogits = GrowableBuffer(), dLogits = GrowableBuffer()       // (L·S, W)
    var dOutput = GrowableBuffer()                                        // (L·S, C)
    var online = PolicyActivations(), target = PolicyActivations()
}

public final class RLPromptTuner: PromptSearch {
    public let model: any CausalLM
    public let policyModel: any CausalLM
    public let tokenizer: any Tokenizer
    public let data: TuningData
    public let configuration: TuningConfiguration
    /// The resumable state but for the networks, which live in `online` and `target` only.
    private var progress: TuningState
    let classifier: CachedPrefixClassifier  // training examples, then dev examples
    let fluency: FluencyScorer
    /// Tokens the filter excludes: never chosen.
    let excluded: [Int]
    let start: Int32
    let reward = GapReward()
    private var online: PolicyMLP
    private var target: PolicyMLP
    private var workspace = RLPromptWorkspace()

    public var state: TuningState {
        var state = progress
        state.policy = PolicyState(online: PackedFloats(online.parameters), target: PackedFloats(target.parameters))
        return state
    }

    public init(model: any CausalLM, policyModel: (any CausalLM)? = nil, tokenizer: any Tokenizer, data: TuningData,
                configuration: TuningConfiguration, resuming saved: TuningState? = nil) throws {
        try configuration.validate()
        guard !data.train.isEmpty else { throw TuningError.emptyTrainingSet }
        let policyModel = policyModel ?? model
        guard policyModel.vocabularySize == model.vocabularySize else {
            throw TuningError.invalidConfiguration("the policy model's vocabulary (\(policyModel.vocabularySize)) differs from the task model's (\(model.vocabularySize)); they must share a tokenizer")
        }
        self.model = model; self.policyModel = policyModel; self.tokenizer = tokenizer; self.data = data
        self.configuration = configuration
        let allowed = configuration.filter.allowed(tokenizer: tokenizer, vocabularySize: model.vocabularySize)
        excluded = allowed.indices.filter { !allowed[$0] }
        start = tokenizer.specialTokens.beginningOfSequence ?? tokenizer.specialTokens.endOfText ?? 0
        classifier = try CachedPrefixClassifier(model: model, examples: data.train + data.dev, verbalizer: data.verbalizer,
                                                sequencesPerPass: 8 * configuration.policy.samplesPerStep)
        fluency = FluencyScorer(model: model, start: start)
        let (C, K) = (policyModel.width, configuration.policy.hiddenWidth)
        if let policy = saved?.policy {
            online = PolicyMLP(width: C, hiddenWidth: K, parameters: policy.online.values)
            target = PolicyMLP(width: C, hiddenWidth: K, parameters: policy.target.values)
        } else {
            online = PolicyMLP(width: C, hiddenWidth: K, seed: configuration.seed &+ 0x901)
            target = online
        }
        progress = saved ?? TuningState(prompt: [], optimizer: AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay))
        progress.policy = nil
        if saved == nil { progress.prompt = try model.promptEmbeddings(of: currentIds()).values }
    }

    /// The greedy prompt of the current policy.
    public func currentIds() throws -> [Int32] { try rollout(samples: 1, seed: nil).ids[0] }

    public func run(onStep: (StepRecord) throws -> Void) throws {
        while progress.step < configuration.steps {
            let record = try step()
            try onStep(record)
        }
    }

    // MARK: Rollout

    /// Writes S prompts of L tokens from the start token: sampled from the top-k with `seed`, or greedy (nil).
    func rollout(samples S: Int, seed: UInt64?) throws -> Rollout {
        let p = configuration.policy, L = configuration.promptLength, C = policyModel.width, V = policyModel.vocabularySize
        let W = p.fluentTopK.map { min($0, V) } ?? V
        var r = Rollout(ids: Array(repeating: [], count: S), actions: [], candidates: p.fluentTopK == nil ? nil : [], columns: W)
        workspace.logits.reserve(L * S * W); workspace.states.reserve(L * S * C); workspace.inputs.reserve(S * C)
        if p.fluentTopK != nil { workspace.frozenLogits.reserve(S * V) }
        workspace.online.reserve(rows: L * S, width: C, hiddenWidth: p.hiddenWidth)
        let (inputs, full) = (workspace.inputs.pointer, workspace.frozenLogits.pointer)
        let caches = (0..<S).map { _ in policyModel.makeCache(capacity: L + 1) }
        var sampler = seed.map { Sampler(SamplingOptions(topK: p.sampleTopK, seed: $0)) }
        var next = [Int32](repeating: start, count: S)
        for t in 0..<L {
            try policyModel.embed(next, into: inputs)
            let hidden = try policyModel.forward(inputs: inputs, batch: RaggedBatch(lengths: Array(repeating: 1, count: S)),
                                                 continuing: caches, extend: true)
            (workspace.states.pointer + t * S * C).update(from: hidden, count: S * C)
            online.forward(hidden, rows: t * S, count: S, activations: &workspace.online)
            let out = workspace.online.output(row: t * S, width: C), rows = workspace.logits.pointer + t * S * W
            if let k = p.fluentTopK {
                policyModel.headLogits(hidden: hidden, rows: S, into: full)
                for s in 0..<S {
                    mask(full + s * V, count: V)
                    let candidates = topIndices(UnsafeBufferPointer(start: full + s * V, count: V), k: min(k, V)).map(Int32.init)
                    r.candidates!.append(candidates)
                    policyModel.headLogits(hidden: out + s * C, rows: 1, vocabulary: candidates, into: rows + s * W)
                }
            } else {
                policyModel.headLogits(hidden: out, rows: S, into: rows)
                for s in 0..<S { mask(rows + s * W, count: W) }
            }
            for s in 0..<S {
                let row = UnsafeBufferPointer(start: rows + s * W, count: W)
                let column = sampler != nil ? Int(sampler!.next(from: row)) : argmax(row)
                r.actions.append(column)
                next[s] = r.candidates?[t * S + s][column] ?? Int32(column)
                r.ids[s].append(next[s])
            }
        }
        return r
    }

    /// Excluded tokens can never be chosen.
    private func mask(_ row: UnsafeMutablePointer<Float>, count: Int) {
        for j in excluded { row[j] = -.infinity }
    }

    // MARK: Rewards

    /// Each prompt's reward terms on the training examples at `indices`, and the learner's rewards.
    func rewards(for prompts: [[Int32]], examples indices: [Int]) throws -> (terms: [RewardTerms], changed: Int) {
        let c = configuration, labels = indices.map { data.train[$0].label }
        let scores = try classifier.labelLogProbabilities(prompts: prompts, examples: indices)
        let gaps = scores.map { reward.reward(classLogProbabilities: $0, labels: labels) }
        let perplexities = try fluency.logPerplexities(prompts)
        // Faithfulness of the readable prompt: the text a person would copy, tokenized again.
        let retokenized = prompts.map { tokenizer.encode(tokenizer.decode($0)) }
        let changed = prompts.indices.filter { retokenized[$0] != prompts[$0] && !retokenized[$0].isEmpty }
        var lost = [Double](repeating: 0, count: prompts.count)
        if c.faithfulness > 0, !changed.isEmpty {
            let textScores = try classifier.labelLogProbabilities(prompts: changed.map { retokenized[$0] }, examples: indices)
            for (i, p) in changed.enumerated() {
                lost[p] = max(0, gaps[p].accuracy - reward.reward(classLogProbabilities: textScores[i], labels: labels).accuracy)
            }
        }
        let totals = learnerRewards(gaps: gaps.map(\.reward), logPerplexities: perplexities, accuracyLost: lost,
                                    scale: c.policy.rewardScale, scrutability: c.scrutability, faithfulness: c.faithfulness)
        // The raw terms are what is logged; only the learner sees the z-scored total.
        let terms = prompts.indices.map { p in
            RewardTerms(gap: gaps[p].reward, accuracy: gaps[p].accuracy, logPerplexity: perplexities[p], accuracyLost: lost[p],
                        total: totals[p])
        }
        return (terms, changed.count)
    }

    // MARK: Learning

    /// One step: Polyak-update the target, sample, reward, and take an Adam step on the soft Q-learning loss.
    public func step() throws -> StepRecord {
        let started = Date()
        let c = configuration, p = c.policy, S = p.samplesPerStep, L = c.promptLength, C = policyModel.width
        target.moveToward(online, rate: p.targetRate)
        let r = try rollout(samples: S, seed: c.seed &+ UInt64(progress.step) &* 0x51ED)
        let indices = trainingBatch(at: progress.step, of: data.train.count, configuration: c)
        let (terms, changed) = try rewards(for: r.ids, examples: indices)

        // The target network reads the same frozen states; its rows get the same mask.
        let (M, W, V) = (L * S, r.columns, policyModel.vocabularySize)
        workspace.target.reserve(rows: M, width: C, hiddenWidth: p.hiddenWidth)
        workspace.targetLogits.reserve(M * W); workspace.dLogits.reserve(M * W)
        let (states, targetLogits, dLogits) = (workspace.states.pointer, workspace.targetLogits.pointer, workspace.dLogits.pointer)
        target.forward(states, rows: 0, count: M, activations: &workspace.target)
        let targetOut = workspace.target.output(row: 0, width: C)
        if let candidates = r.candidates {
            for row in 0..<M {
                policyModel.headLogits(hidden: targetOut + row * C, rows: 1, vocabulary: candidates[row], into: targetLogits + row * W)
            }
        } else {
            policyModel.headLogits(hidden: targetOut, rows: M, into: targetLogits)
            for row in 0..<M { mask(targetLogits + row * W, count: W) }
        }
        let loss = softQLearningLoss(online: workspace.logits.pointer, target: targetLogits, actions: r.actions,
                                     rewards: terms.map(\.total), steps: L, columns: W, gradient: dLogits)

        // d(loss)/d(MLP output) through the frozen head, then the MLP's own backward.
        let dOutput = workspace.dOutput.zeroed(M * C)
        if let candidates = r.candidates {
            for row in 0..<M {
                for (j, id) in candidates[row].enumerated() {
                    axpy(dLogits[row * W + j], policyModel.headWeights + Int(id) * C, dOutput + row * C, count: C)
                }
            }
        } else {
            policyModel.products.linearBackward(dinp: dOutput, dweight: nil, dbias: nil, dout: dLogits, inp: states,
                           weight: policyModel.headWeights, layout: .outputMajor, N: M, I: C, O: V)
        }
        var gradient = [Float](repeating: 0, count: online.parameters.count)
        online.backward(dOutput: dOutput, rows: M, activations: workspace.online, gradient: &gradient)
        let norm = clipGradient(&gradient, maxNorm: c.maxGradientNorm)
        progress.optimizer.update(&online.parameters, gradient: gradient)
        progress.step += 1

        let n = Float(S)
        let best = terms.indices.max { terms[$0].total < terms[$1].total }!
        let summary = RewardSummary(
            gap: terms.reduce(0) { $0 + $1.gap } / n, logPerplexity: terms.reduce(0) { $0 + $1.logPerplexity } / n,
            accuracyLost: c.faithfulness > 0 ? terms.reduce(0) { $0 + $1.accuracyLost } / Double(S) : nil,
            total: terms.reduce(0) { $0 + $1.total } / n, retokenizationChanged: changed,
            bestSample: tokenizer.decode(r.ids[best]), bestSampleGap: terms[best].gap)
        var record = StepRecord(
            step: progress.step, loss: loss.loss, taskLoss: loss.loss, scrutabilityLoss: summary.logPerplexity,
            faithfulnessLoss: Float(summary.accuracyLost ?? 0), klLoss: 0, gradientNorm: norm,
            termGradientNorms: nil, batchAccuracy: terms.reduce(0) { $0 + $1.accuracy } / Double(S), ids: r.ids[best], text: summary.bestSample,
            devAccuracy: nil, bestDevAccuracy: progress.best?.devAccuracy, bestText: progress.best.map { tokenizer.decode($0.ids) },
            seconds: 0, reward: summary)
        if progress.step % c.evaluateEvery == 0 || progress.step == c.steps { try evaluate(&record) }
        progress.seconds += Date().timeIntervalSince(started)
        record.seconds = progress.seconds
        return record
    }

    /// Dev accuracy of the greedy prompt, and the best-so-far bookkeeping.
    private func evaluate(_ record: inout StepRecord) throws {
        let ids = try currentIds()
        let prompt = try model.promptEmbeddings(of: ids)
        progress.prompt = prompt.values
        let dev = Array(data.train.count..<(data.train.count + data.dev.count))
        var accuracy = 0.0, loss: Double?
        if !dev.isEmpty {
            let task: Float
            (task, accuracy) = try classifier.crossEntropy(prompt: ids, examples: dev)
            if configuration.selection == .devLoss {
                let fluent = configuration.scrutability > 0 ? try fluency.logPerplexities([ids])[0] : 0
                loss = Double(task + configuration.scrutability * fluent)
            }
        }
        BestPrompt.keep(step: progress.step, accuracy: accuracy, loss: loss, ids: ids, values: prompt.values,
                        selection: configuration.selection, in: &progress.best, record: &record, tokenizer: tokenizer)
    }
}
