// A gradient-guided discrete prompt search (AutoPrompt, Shin et al. 2020; GCG, Zou et al. 2023; ARCA, Jones et
// al. 2023). The prompt is token ids. Each step:
//   1. the gradient of the task loss for the one-hot tokens: the prompt rows' input gradient times the
//      vocabulary's input embeddings, G = dP · (s·E)ᵀ (one GEMM);
//   2. the k lowest-scoring allowed tokens per position (plus, with trajectory retrieval, the tokens the best
//      prompts so far hold there); with λ > 0 half of them by G alone and half by G plus λ times the exact NLL of
//      every token there given the prompt before it (ARCA's autoregressive term, read from one forward of the
//      current prompt);
//   3. candidates that each change n_t positions (GPO's cosine-decayed edit budget), drawn at random from those
//      pools;
//   4. every candidate and the current prompt scored exactly on the step's batch: task cross-entropy +
//      λ·(log-perplexity + repetition penalty) (DiscreteObjective);
//   5. the best candidate replaces the prompt when it lowers the objective; each changed position is an edit.
// Task scores reuse each training sentence's key/value cache (the tokens before the prompt slot): with the
// "{sentence} {prompt}" template a candidate runs only its own tokens per sentence.
// Dimensions: n prompt length, C width, V vocabulary, B candidates.
import Foundation
import Kernels
import Models
import Tokenizers

public final class GCGTuner: PromptSearch {
    public let model: any CausalLM
    public let tokenizer: any Tokenizer
    public let data: TuningData
    public let configuration: TuningConfiguration
    public private(set) var state: TuningState
    let allowed: [Bool]
    let start: Int32
    /// Full sequences with the prompt spliced in: forward and backward for the one-hot gradient.
    let classifier: PromptClassifier
    /// Training examples, then dev examples, each prefix cached once: exact candidate scores.
    let scorer: CachedPrefixClassifier
    let fluency: FluencyScorer
    private var gradientScores = FloatBuffer(count: 0)   // (n, V)

    public init(model: any CausalLM, tokenizer: any Tokenizer, data: TuningData, configuration: TuningConfiguration,
                resuming saved: TuningState? = nil) throws {
        try configuration.validate()
        guard !data.train.isEmpty else { throw TuningError.emptyTrainingSet }
        self.model = model; self.tokenizer = tokenizer; self.data = data; self.configuration = configuration
        allowed = configuration.filter.allowed(tokenizer: tokenizer, vocabularySize: model.vocabularySize)
        start = tokenizer.specialTokens.beginningOfSequence ?? tokenizer.specialTokens.endOfText ?? 0
        classifier = PromptClassifier(model: model, verbalizer: data.verbalizer, batchSize: configuration.batchSize)
        scorer = try CachedPrefixClassifier(model: model, examples: data.train + data.dev, verbalizer: data.verbalizer)
        fluency = FluencyScorer(model: model, start: start)
        if let saved {
            guard let ids = saved.ids, ids.count == configuration.promptLength, ids.allSatisfy({ $0 >= 0 && Int($0) < model.vocabularySize }) else {
                throw TuningError.invalidConfiguration("the saved state holds no valid \(configuration.promptLength)-token prompt for this model")
            }
            state = saved
        } else {
            var ids = try PromptTuner.initialIds(configuration, data: data, tokenizer: tokenizer, allowed: allowed)
            if case .text(let text) = configuration.initialization {
                ids = configuration.initialTokens(of: text, promptFollowsText: data.promptFollowsText, tokenizer: tokenizer)
                guard ids.count == configuration.promptLength else {
                    throw TuningError.initialPromptLength(text: text, tokens: ids.count, expected: configuration.promptLength)
                }
            }
            ids = Self.typed(ids, tokenizer: tokenizer, allowed: allowed, afterText: data.promptFollowsText) ?? ids
            state = TuningState(prompt: try model.promptEmbeddings(of: ids).values,
                                optimizer: AdamW(learningRate: configuration.learningRate, weightDecay: configuration.weightDecay),
                                ids: ids, trajectory: configuration.search.trajectory > 0 ? [] : nil)
        }
    }

    public var ids: [Int32] { state.ids ?? [] }

    /// Puts back a state this search had (benchmarks repeat one step).
    public func restore(_ saved: TuningState) { state = saved }
    public func currentIds() throws -> [Int32] { ids }

    public func run(onStep: (StepRecord) throws -> Void) throws {
        while state.step < configuration.steps {
            let record = try step()
            try onStep(record)
        }
    }

    // MARK: Proposals

    /// Per position, the k allowed tokens (other than the current one) whose swap the gradient and, with λ > 0, the
    /// exact next-token NLL promise to lower the objective most; best first. Also returns ‖dP‖ and the current
    /// prompt's per-position NLLs.
    func proposals(examples: [EncodedExample]) throws -> (pools: [[Int32]], gradientNorm: Float) {
        let c = configuration, n = c.promptLength, V = model.vocabularySize
        let current = ids
        let norm = try oneHotGradient(examples: examples)
        let G = gradientScores.pointer
        let k = min(c.search.candidatesPerPosition, V)
        // Lowest scores first: negate into the top-k search, excluded and current tokens never chosen.
        var negated = [Float](repeating: -.infinity, count: V)
        func lowest(_ row: UnsafePointer<Float>, position i: Int, count: Int) -> [Int32] {
            for v in 0..<V { negated[v] = allowed[v] && Int32(v) != current[i] ? -row[v] : -.infinity }
            return negated.withUnsafeBufferPointer { topIndices($0, k: count) }.filter { negated[$0] > -.infinity }.map(Int32.init)
        }
        guard c.scrutability > 0 else { return ((0..<n).map { lowest(G + $0 * V, position: $0, count: k) }, norm) }
        // With λ > 0, half of each pool comes from the task gradient alone and half from the gradient plus λ times
        // the exact NLL of each token at its position (row i reads [start, p0 … p(i−1)]): the fluent half alone
        // proposes probable words that do nothing for the task, and the search stalls on them.
        let fluent = try model.forward(ids: [[start] + current]) { _ in HeadRequest(rows: Array(0..<n)) }
        var combined = [Float](repeating: 0, count: V)
        let pools: [[Int32]] = (0..<n).map { i in
            let task = lowest(G + i * V, position: i, count: (k + 1) / 2)
            let row = fluent.pointer + i * V, g = G + i * V
            let logSum = logSumExp(UnsafeBufferPointer(start: row, count: V))
            for v in 0..<V { combined[v] = g[v] + c.scrutability * (logSum - row[v]) }
            let readable = combined.withUnsafeBufferPointer { lowest($0.baseAddress!, position: i, count: k) }
            return task + readable.filter { !task.contains($0) }.prefix(k - task.count)
        }
        return (pools, norm)
    }

    /// Fills `gradientScores` (n, V) with the task loss's gradient for the one-hot tokens of the current prompt on
    /// `examples`, G = s · dP · Eᵀ: G[i, v] − G[i, current_i] is the loss's derivative along the straight line from
    /// the current token's input embedding to v's. Returns ‖dP‖.
    @discardableResult
    func oneHotGradient(examples: [EncodedExample]) throws -> Float {
        let n = configuration.promptLength, (C, V) = (model.width, model.vocabularySize)
        let prompt = try model.promptEmbeddings(of: ids)
        let logits = try classifier.forward(examples[...], prompt: prompt)
        let (_, dLogits, _) = taskLoss(logits, labels: examples.map(\.label))
        var dPrompt = [Float](repeating: 0, count: n * C)
        try dLogits.withUnsafeBufferPointer { try classifier.promptGradient(dLogits: $0.baseAddress!, prompt: prompt, into: &dPrompt) }
        let norm = Float(dPrompt.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())

        // G (n, V) = s · dP · Eᵀ: the first-order change of the task loss when position i becomes token v.
        if gradientScores.count < n * V { gradientScores = FloatBuffer(count: n * V) }
        dPrompt.withUnsafeBufferPointer {
            sgemm(.none, .transposed, M: n, N: V, K: C, alpha: model.embeddingScale, A: $0.baseAddress!, lda: C,
                  B: model.tokenEmbeddings, ldb: C, beta: 0, C: gradientScores.pointer, ldc: V)
        }
        return norm
    }

    /// Row i of the last one-hot scores (tests read the gradient through it).
    func oneHotScores(position i: Int) -> [Float] {
        let V = model.vocabularySize
        return Array(UnsafeBufferPointer(start: gradientScores.pointer + i * V, count: V))
    }

    /// Tokens the best prompts so far hold at each position (trajectory retrieval), excluding the current ones.
    func retrieved() -> [[Int32]] {
        let n = configuration.promptLength, current = ids
        var pools = [[Int32]](repeating: [], count: n)
        for prompt in state.trajectory ?? [] where prompt.ids.count == n {
            for i in 0..<n where prompt.ids[i] != current[i] && !pools[i].contains(prompt.ids[i]) { pools[i].append(prompt.ids[i]) }
        }
        return pools
    }

    /// The ids a person gets by typing this prompt's text into the template (after a space when text precedes the
    /// prompt), when they are as many and all allowed; nil otherwise. Candidates are scored in this form, so the
    /// prompt the search hands out reads back as the same ids and its accuracy as text is its accuracy as ids.
    func typed(_ ids: [Int32]) -> [Int32]? {
        Self.typed(ids, tokenizer: tokenizer, allowed: allowed, afterText: data.promptFollowsText)
    }

    static func typed(_ ids: [Int32], tokenizer: any Tokenizer, allowed: [Bool], afterText: Bool) -> [Int32]? {
        let text = tokenizer.decode(ids).drop { $0 == " " }
        let again = tokenizer.encode((afterText ? " " : "") + text)
        return again.count == ids.count && again.allSatisfy({ Int($0) < allowed.count && allowed[Int($0)] }) ? again : nil
    }

    /// Up to `count` distinct candidates, each changing `edits` distinct positions to tokens from their pools.
    static func candidates(from current: [Int32], pools: [[Int32]], edits: Int, count: Int, seed: UInt64) -> [[Int32]] {
        let open = pools.indices.filter { !pools[$0].isEmpty }
        guard !open.isEmpty else { return [] }
        let size = min(edits, open.count)
        var rng = SeededGenerator(seed: seed)
        var seen: Set<[Int32]> = [current], result: [[Int32]] = []
        var attempts = 0
        while result.count < count && attempts < count * 20 {
            attempts += 1
            var candidate = current
            for i in open.shuffled(using: &rng).prefix(size) {
                candidate[i] = pools[i][Int(rng.next() % UInt64(pools[i].count))]
            }
            if seen.insert(candidate).inserted { result.append(candidate) }
        }
        return result
    }

    // MARK: Exact scores

    /// The objective's terms for each prompt on the training examples at `indices`. Prompts that begin with the
    /// same tokens as `reference` (candidates edited from it) share the work for those tokens: each group with a
    /// common start runs that start once per example.
    func score(_ prompts: [[Int32]], examples indices: [Int], reference: [Int32]? = nil) throws -> [(terms: ObjectiveTerms, correct: Int)] {
        let c = configuration, labels = indices.map { scorer.examples[$0].label }
        var scores = [[[Float]]](repeating: [], count: prompts.count)
        let groups = Dictionary(grouping: prompts.indices) { p in
            guard let reference else { return 0 }
            let shared = zip(prompts[p], reference).prefix { $0 == $1 }.count
            return min(shared, prompts[p].count - 1)
        }
        for (shared, members) in groups.sorted(by: { $0.key < $1.key }) {
            let start = Array(prompts[members[0]].prefix(shared))
            let groupScores = try scorer.labelLogProbabilities(prompts: members.map { prompts[$0] }, sharing: start, examples: indices)
            for (p, score) in zip(members, groupScores) { scores[p] = score }
        }
        let perplexities = c.scrutability > 0 ? try logPerplexities(prompts) : prompts.map { _ in Float(0) }
        return prompts.indices.map { p in
            let (task, correct) = crossEntropy(scores[p], labels: labels)
            return (ObjectiveTerms(task: task, logPerplexity: perplexities[p],
                                   repetition: repetitionPenalty(prompts[p], nats: c.search.repetitionPenalty),
                                   scrutability: c.scrutability), correct)
        }
    }

    /// Log-perplexities in chunks: each prompt row needs the whole vocabulary's logits.
    func logPerplexities(_ prompts: [[Int32]]) throws -> [Float] {
        let chunk = max(1, 256 / max(configuration.promptLength, 1))
        return try stride(from: 0, to: prompts.count, by: chunk).flatMap {
            try fluency.logPerplexities(Array(prompts[$0..<min($0 + chunk, prompts.count)]))
        }
    }

    // MARK: Steps

    public func step() throws -> StepRecord {
        let started = Date()
        let c = configuration, n = c.promptLength
        let indices = trainingBatch(at: state.step, of: data.train.count, configuration: c)
        let examples = indices.map { data.train[$0] }
        let current = ids

        let (gradientPools, norm) = try proposals(examples: examples)
        var pools = gradientPools
        if c.search.trajectory > 0 {
            for (i, extra) in retrieved().enumerated() { pools[i] += extra.filter { !pools[i].contains($0) } }
        }
        let edits = c.search.editBudget.positions(atStep: state.step, of: c.steps, promptLength: n)
        // Drawn, then written as a person would type them; a draw whose text reads back otherwise is dropped.
        var seen: Set<[Int32]> = [current]
        let candidates = Self.candidates(from: current, pools: pools, edits: edits, count: c.search.candidates,
                                         seed: c.seed &+ UInt64(state.step) &* 0x6C6)
            .compactMap(typed).filter { seen.insert($0).inserted }
        let scored = try score([current] + candidates, examples: indices, reference: current)
        let before = scored[0].terms
        let best = scored.indices.dropFirst().min { scored[$0].terms.total < scored[$1].terms.total }
        let accepted = best.map { scored[$0].terms.total < before.total } ?? false
        var after = before, correct = scored[0].correct
        var changes: [PromptEdit] = []
        if accepted, let best {
            let next = candidates[best - 1]
            after = scored[best].terms; correct = scored[best].correct
            let changed = (0..<n).filter { next[$0] != current[$0] }
            changes = changed.map { i in
                PromptEdit(step: state.step + 1, position: i, editSize: changed.count,
                           old: .init(id: current[i], text: tokenizer.decode([current[i]])),
                           new: .init(id: next[i], text: tokenizer.decode([next[i]])), before: before, after: after)
            }
            state.ids = next
            state.prompt = try model.promptEmbeddings(of: next).values
            if c.search.trajectory > 0 { remember(ScoredPrompt(ids: next, objective: after.total)) }
        }
        state.step += 1

        let now = ids
        var record = StepRecord(
            step: state.step, loss: after.total, taskLoss: after.task, scrutabilityLoss: after.logPerplexity,
            faithfulnessLoss: 0, klLoss: 0, gradientNorm: norm, batchAccuracy: Double(correct) / Double(indices.count),
            ids: now, text: tokenizer.decode(now), devAccuracy: nil, bestDevAccuracy: state.best?.devAccuracy,
            bestText: state.best.map { tokenizer.decode($0.ids) }, seconds: 0,
            search: SearchSummary(candidates: candidates.count, editBudget: edits, accepted: accepted, before: before, after: after))
        if state.step % c.evaluateEvery == 0 || state.step == c.steps { try evaluate(&record) }
        record.edits = changes.map { var edit = $0; edit.devAccuracy = record.devAccuracy; return edit }
        state.seconds += Date().timeIntervalSince(started)
        record.seconds = state.seconds
        return record
    }

    /// Keeps the K best distinct prompts by the objective at acceptance.
    private func remember(_ prompt: ScoredPrompt) {
        var kept = (state.trajectory ?? []).filter { $0.ids != prompt.ids } + [prompt]
        kept.sort { $0.objective < $1.objective }
        state.trajectory = Array(kept.prefix(configuration.search.trajectory))
    }

    /// Dev accuracy (and dev loss) of the current prompt, and the best-so-far bookkeeping.
    private func evaluate(_ record: inout StepRecord) throws {
        let c = configuration, prompt = ids
        let dev = Array(data.train.count..<(data.train.count + data.dev.count))
        var accuracy = 0.0, loss: Double?
        if !dev.isEmpty {
            let task: Float
            (task, accuracy) = try scorer.crossEntropy(prompt: prompt, examples: dev)
            if c.selection == .devLoss {
                let fluent = c.scrutability > 0 ? try logPerplexities([prompt])[0] : 0
                loss = Double(ObjectiveTerms(task: task, logPerplexity: fluent,
                                             repetition: repetitionPenalty(prompt, nats: c.search.repetitionPenalty),
                                             scrutability: c.scrutability).total)
            }
        }
        BestPrompt.keep(step: state.step, accuracy: accuracy, loss: loss, ids: prompt, values: state.prompt,
                        selection: c.selection, in: &state.best, record: &record, tokenizer: tokenizer)
    }
}

/// log Σ exp(x), stable.
func logSumExp(_ x: UnsafeBufferPointer<Float>) -> Float {
    var m = -Float.infinity
    for v in x where v > m { m = v }
    guard m.isFinite else { return m }
    var total: Double = 0
    for v in x { total += Double(Foundation.exp(v - m)) }
    return m + Float(Foundation.log(total))
}
