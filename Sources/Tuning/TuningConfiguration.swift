// Everything that decides a tuning run, saved with its results so the run can be repeated or resumed.
import Tokenizers
import Models

public enum TuningMethod: String, Codable, Sendable, CaseIterable {
    /// Continuous prompt tuning (Lester et al. 2021): the soft prompt itself is used.
    case soft
    /// PEZ (Wen et al. 2023): forward and backward at the nearest tokens, step on the continuous prompt.
    case pez
    /// RLPrompt (Deng et al. 2022): a policy samples discrete prompts and learns from their rewards.
    case rlprompt
    /// Gradient-guided discrete search (AutoPrompt, GCG, ARCA): token swaps proposed by the one-hot gradient,
    /// every candidate scored exactly on the task and on its fluency.
    case gcg

    /// The prompt is token ids only: there is no continuous prompt to measure apart from them.
    public var isDiscrete: Bool { self == .rlprompt || self == .gcg }
}

/// The discrete search's settings (gcg).
public struct SearchConfiguration: Codable, Sendable, Equatable {
    /// Candidate prompts scored exactly per step.
    public var candidates = 64
    /// The k best tokens per position by the one-hot gradient that candidates draw from.
    public var candidatesPerPosition = 64
    /// Positions a candidate changes, decayed from MAX to MIN over the run (GPO).
    public var editBudget = EditBudget()
    /// GPO's trajectory retrieval: the K best prompts found so far also lend their tokens to the candidate pools
    /// (0: off).
    public var trajectory = 0
    /// ρ: nats charged per token that repeats an earlier one, inside the fluency term (see DiscreteObjective).
    public var repetitionPenalty: Float = 4

    public init() {}
}

/// Which evaluated prompt is handed out.
public enum PromptSelection: String, Codable, Sendable, CaseIterable {
    /// Highest dev accuracy, ties to the later step.
    case devAccuracy = "dev-accuracy"
    /// Lowest dev loss: dev cross-entropy + λ · the prompt's log-perplexity (+ λ · repetition for gcg), ties to
    /// the later step. Smoother than accuracy on a 32-sentence dev set, whose accuracy moves in steps of 3 points.
    case devLoss = "dev-loss"
}

/// RLPrompt's policy and learner settings (defaults as in its few-shot classification configuration).
public struct PolicyConfiguration: Codable, Sendable, Equatable {
    /// The frozen model under the policy's MLP, as given by the user; nil means the task model.
    public var model: String?
    /// Hidden width of the MLP (width → hidden → width).
    public var hiddenWidth = 2048
    /// Prompts sampled and rewarded per step.
    public var samplesPerStep = 16
    /// Training samples come from the policy's k most likely tokens; evaluation decodes greedily.
    public var sampleTopK = 256
    /// When set, only the frozen model's K most likely next tokens may be chosen (RLPrompt's fluent option).
    public var fluentTopK: Int?
    /// Polyak rate of the target network.
    public var targetRate: Float = 0.001
    /// The z-scored gap reward is multiplied by this (RLPrompt maps [0, 1] to [0, 5]).
    public var rewardScale: Float = 5

    public init() {}
}

/// How the scrutability term's gradient reaches the prompt (see FluencyScorer.loss for both objectives).
public enum FluencyGradient: String, Codable, Sendable, CaseIterable {
    /// Context and target (MuCoLa's continuous targets, Kumar et al. 2022): prompt vector i is also the output row
    /// whose logit position i scores, so the gradient pulls each vector toward what the model expects there, and
    /// the last one is covered. For a prompt of token embeddings (PEZ's P′) the value equals `context`'s.
    case full
    /// Context only: the targets are fixed token ids and the gradient flows through the hidden states that read
    /// the earlier prompt vectors; nothing reaches the last one. The form before `full`, kept for comparison.
    case context
}

public enum PromptInitialization: Codable, Sendable, Equatable {
    case randomTokens
    case text(String)
    case classWords
    /// The task's manual prompt, with its length: a run resolves it to `.text` before tuning (the tuners do not
    /// know tasks), so one sweep can start every task from its own instruction.
    case manualPrompt
}

extension TuningConfiguration {
    /// The prompt's first tokens for a text start, in the form the method reads them: gcg scores prompts as typed,
    /// after a space when text precedes the prompt; the embedding tuners take the text's own tokens.
    public func initialTokens(of text: String, promptFollowsText: Bool, tokenizer: any Tokenizer) -> [Int32] {
        method == .gcg ? tokenizer.encode((promptFollowsText ? " " : "") + text.drop { $0 == " " }) : tokenizer.encode(text)
    }
}

public struct TuningConfiguration: Codable, Sendable, Equatable {
    public var method: TuningMethod = .pez
    public var promptLength = 10
    public var steps = 150
    public var batchSize = 16
    /// Absolute, in the model's input-embedding space (Gemma 3's coordinates have a standard deviation
    /// near 1): see the learning-rate probe in the README.
    public var learningRate: Float = 1
    public var weightDecay: Float = 0.01
    public var maxGradientNorm: Float = 1
    /// λ: weight of the scrutability term (mean NLL of the projected prompt under the model).
    public var scrutability: Float = 0
    /// γ: weight of the distance between the soft prompt and its projection.
    public var faithfulness: Float = 0
    /// κ: weight of KL(label distribution with the soft prompt ‖ with its projection).
    public var faithfulnessKL: Float = 0
    /// Projected Langevin noise (FluentPrompt, Shi et al. 2022): the temperature β of the noise added after the
    /// first step; it decays geometrically to 1e-4 at the last (see `langevinTemperature(atStep:)`).
    public var langevinTemperature: Float = 0
    /// Which gradient the scrutability term gives (soft and PEZ).
    public var fluencyGradient: FluencyGradient = .full
    public var seed: UInt64 = 0
    public var evaluateEvery = 10
    public var metric: ProjectionMetric = .cosine
    public var filter = TokenFilter()
    public var initialization: PromptInitialization = .randomTokens
    /// RLPrompt only.
    public var policy = PolicyConfiguration()
    /// gcg only.
    public var search = SearchConfiguration()
    public var selection: PromptSelection = .devAccuracy

    public init() {}

    /// Defaults that differ by method: RLPrompt trains an MLP with Adam (lr 5e-5, clip 5, no decay) and
    /// samples 5-token prompts; the embedding-space tuners step in input-embedding units.
    public init(method: TuningMethod) {
        self.method = method
        if method == .rlprompt { promptLength = 5; learningRate = 5e-5; weightDecay = 0; maxGradientNorm = 5 }
        // 30 steps of gcg take about as long as 150 of PEZ would on Gemma 3 270M (a step costs 4×).
        if method == .gcg { promptLength = 5; steps = 30 }
    }

    /// Upper bounds on sizes a user types: far above any useful value, low enough that no allocation derived
    /// from them (policy network, candidate batches, activations) overflows or asks for more than memory.
    public static let sizeLimit = 4_096
    public static let policyWidthLimit = 65_536
    public static let stepLimit = 10_000_000

    public func validate() throws {
        let weights = [learningRate, weightDecay, maxGradientNorm, scrutability, faithfulness, faithfulnessKL, langevinTemperature,
                       search.repetitionPenalty, policy.targetRate]
        let sizes = [promptLength, batchSize, policy.samplesPerStep, policy.sampleTopK, policy.fluentTopK ?? 1, search.candidates,
                     search.candidatesPerPosition, search.trajectory, search.editBudget.maximum]
        let problems: [String?] = [
            weights.allSatisfy(\.isFinite) ? nil : "every rate and weight must be a finite number",
            sizes.allSatisfy({ $0 <= Self.sizeLimit }) ? nil : "prompt length, batch, samples, top-k, candidates and trajectory are limited to \(Self.sizeLimit)",
            policy.hiddenWidth <= Self.policyWidthLimit ? nil : "the policy's hidden width is limited to \(Self.policyWidthLimit)",
            steps <= Self.stepLimit && evaluateEvery <= Self.stepLimit ? nil : "steps and evaluate-every are limited to \(Self.stepLimit)",
            weightDecay >= 0 ? nil : "weight decay cannot be negative",
            maxGradientNorm >= 0 ? nil : "the clipping norm cannot be negative (0: no clipping)",
            promptLength >= 1 ? nil : "prompt length must be at least 1",
            steps >= 0 ? nil : "steps cannot be negative",
            batchSize >= 1 ? nil : "batch size must be at least 1",
            learningRate > 0 ? nil : "learning rate must be positive",
            scrutability >= 0 && faithfulness >= 0 && faithfulnessKL >= 0 ? nil : "loss weights cannot be negative",
            langevinTemperature >= 0 ? nil : "Langevin temperature cannot be negative",
            evaluateEvery >= 1 ? nil : "evaluate-every must be at least 1",
            policy.hiddenWidth >= 1 ? nil : "the policy's hidden width must be at least 1",
            policy.samplesPerStep >= 2 ? nil : "samples per step must be at least 2 (rewards are z-scored across them)",
            policy.sampleTopK >= 1 ? nil : "sampling top-k must be at least 1",
            (policy.fluentTopK ?? 1) >= 1 ? nil : "fluent top-k must be at least 1",
            policy.targetRate > 0 && policy.targetRate <= 1 ? nil : "the target network's Polyak rate must be in (0, 1]",
            search.candidates >= 1 ? nil : "candidates per step must be at least 1",
            search.candidatesPerPosition >= 1 ? nil : "candidates per position must be at least 1",
            search.editBudget.validate(),
            search.trajectory >= 0 ? nil : "the trajectory size cannot be negative",
            search.repetitionPenalty >= 0 ? nil : "the repetition penalty cannot be negative",
        ]
        if let problem = problems.compactMap({ $0 }).first { throw TuningError.invalidConfiguration(problem) }
    }
}

extension TuningConfiguration {
    /// Every key is required except `fluencyGradient`: run.json files and prompt files written before it existed
    /// still read, as `.context`, the only gradient there was then (so resuming such a run asks for
    /// --fluency-gradient context rather than changing its objective midway).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        method = try c.decode(TuningMethod.self, forKey: .method)
        promptLength = try c.decode(Int.self, forKey: .promptLength)
        steps = try c.decode(Int.self, forKey: .steps)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        maxGradientNorm = try c.decode(Float.self, forKey: .maxGradientNorm)
        scrutability = try c.decode(Float.self, forKey: .scrutability)
        faithfulness = try c.decode(Float.self, forKey: .faithfulness)
        faithfulnessKL = try c.decode(Float.self, forKey: .faithfulnessKL)
        langevinTemperature = try c.decode(Float.self, forKey: .langevinTemperature)
        fluencyGradient = try c.decodeIfPresent(FluencyGradient.self, forKey: .fluencyGradient) ?? .context
        seed = try c.decode(UInt64.self, forKey: .seed)
        evaluateEvery = try c.decode(Int.self, forKey: .evaluateEvery)
        metric = try c.decode(ProjectionMetric.self, forKey: .metric)
        filter = try c.decode(TokenFilter.self, forKey: .filter)
        initialization = try c.decode(PromptInitialization.self, forKey: .initialization)
        policy = try c.decode(PolicyConfiguration.self, forKey: .policy)
        // Added with gcg: older files have neither.
        search = try c.decodeIfPresent(SearchConfiguration.self, forKey: .search) ?? SearchConfiguration()
        selection = try c.decodeIfPresent(PromptSelection.self, forKey: .selection) ?? .devAccuracy
    }
}

public enum TuningError: Error, CustomStringConvertible, Equatable {
    case invalidConfiguration(String)
    case emptyTrainingSet
    case initialPromptLength(text: String, tokens: Int, expected: Int)
    /// A saved state that does not fit the run resuming it.
    case invalidState(String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let problem): return "invalid tuning configuration: \(problem)"
        case .emptyTrainingSet: return "the training set is empty"
        case .initialPromptLength(let text, let tokens, let expected):
            return "the initial prompt \"\(text)\" is \(tokens) tokens; the prompt length is \(expected) (give --prompt-length \(tokens) or another text)"
        case .invalidState(let problem): return "state.json cannot be resumed: \(problem); start the run again in a new --out"
        }
    }
}

extension TuningConfiguration {
    /// This configuration for `model`: the full fluency gradient lets prompt vectors stand in for output rows, which
    /// only a tied head has, so on an untied head PEZ and soft tuning take the context form. `tune` (when the form
    /// is not given) and sweeps both apply this; PromptTuner refuses the full form on an untied head.
    public func fittingFluencyGradient(to model: any CausalLM) -> TuningConfiguration {
        guard fluencyGradient == .full, !model.isHeadTied, !method.isDiscrete else { return self }
        var c = self
        c.fluencyGradient = .context
        return c
    }
}
