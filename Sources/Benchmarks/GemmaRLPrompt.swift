// RLPrompt on Gemma 3 270M, as `legible tune --method rlprompt` runs it (16 prompts of 5 tokens per step,
// rewarded on 16 sentences, "{sentence} {prompt}"):
//   gemma3-270m/rlprompt-reward            the reward's label scores, each sentence's key/value cache reused
//   gemma3-270m/rlprompt-reward-recompute  the same scores by forwarding every whole sequence
//   gemma3-270m/rlprompt-step              one whole step: rollout, rewards, soft Q-learning update
// Run together, the first two give the speed-up of the cached prefixes in one run.
import Kernels
import Models
import Tokenizers
import Tuning

enum RLPromptBenchmarkSetup {
    static let samples = 16, promptLength = 5

    /// The sentences as RLPrompt's template lays them out: everything before the prompt is prefix.
    static func examples(_ input: GemmaClassifyBatch, count: Int = 16) -> [EncodedExample] {
        input.ids.prefix(count).enumerated().map { EncodedExample(prefix: $1, suffix: [], label: $0 % 2) }
    }

    static func prompts(vocabularySize: Int) -> [[Int32]] {
        var rng = SeededGenerator(seed: 17)
        return (0..<samples).map { _ in (0..<promptLength).map { _ in Int32(1000 + rng.next() % UInt64(vocabularySize - 2000)) } }
    }

}

public final class GemmaRLPromptRewardWorkload: Workload {
    let sentences: [EncodedExample]
    let prompts: [[Int32]]
    let cached: CachedPrefixClassifier?
    let full: PromptClassifier
    let model: DecoderModel
    public let name: String
    public let note: String?

    public init(model: DecoderModel, input: GemmaClassifyBatch, recompute: Bool) throws {
        self.model = model
        sentences = RLPromptBenchmarkSetup.examples(input)
        prompts = RLPromptBenchmarkSetup.prompts(vocabularySize: model.vocabularySize)
        cached = recompute ? nil : try CachedPrefixClassifier(model: model, examples: sentences, verbalizer: GemmaClassifyBatch.labelWords)
        full = PromptClassifier(model: model, verbalizer: GemmaClassifyBatch.labelWords, batchSize: sentences.count)
        name = recompute ? "gemma3-270m/rlprompt-reward-recompute" : "gemma3-270m/rlprompt-reward"
        let lengths = sentences.map(\.prefix.count)
        note = "\(prompts.count) prompts × \(sentences.count) sentences (\(lengths.min()!)-\(lengths.max()!) tokens), prompt \(RLPromptBenchmarkSetup.promptLength) tokens"
            + (recompute ? "; whole sequences" : "; sentence caches built once, outside the timing")
            + (input.note.map { "; \($0)" } ?? "")
    }

    public var B: Int { prompts.count * sentences.count }
    public var T: Int { (sentences.map(\.prefix.count).max() ?? 0) + RLPromptBenchmarkSetup.promptLength }
    /// Prompt–sentence pairs scored per step.
    public var examples: Int? { B }
    public var flops: Double? { nil }

    public func step() throws {
        if let cached {
            _ = try cached.labelLogProbabilities(prompts: prompts, examples: Array(sentences.indices))
            return
        }
        for prompt in prompts { _ = try full.labelLogProbabilities(sentences, prompt: model.promptEmbeddings(of: prompt)) }
    }
}

public final class GemmaRLPromptStepWorkload: Workload {
    let tuner: RLPromptTuner
    public let note: String?

    public init(model: DecoderModel, input: GemmaClassifyBatch, tokenizer: any Tokenizer) throws {
        let examples = RLPromptBenchmarkSetup.examples(input)
        var configuration = TuningConfiguration(method: .rlprompt)
        configuration.batchSize = examples.count
        configuration.steps = TuningConfiguration.stepLimit  // never reached: the benchmark times single steps
        configuration.evaluateEvery = TuningConfiguration.stepLimit
        tuner = try RLPromptTuner(model: model, tokenizer: tokenizer,
                                  data: TuningData(train: examples, dev: [], verbalizer: GemmaClassifyBatch.labelWords),
                                  configuration: configuration)
        note = "\(configuration.policy.samplesPerStep) sampled prompts of \(configuration.promptLength) tokens, rewarded on \(examples.count) sentences; MLP \(model.width)→\(configuration.policy.hiddenWidth)→\(model.width)"
    }

    public var name: String { "gemma3-270m/rlprompt-step" }
    public var B: Int { 16 }
    public var T: Int { RLPromptBenchmarkSetup.promptLength }
    public var examples: Int? { nil }
    public var flops: Double? { nil }

    public func step() throws { _ = try tuner.step() }
}
