// `gemma3-270m/gcg-step`: one step of the discrete search as `legible tune --method gcg` runs it at its defaults
// (64 candidates from the 64 best tokens per position, one position each, a 5-token prompt after 16 sentences in
// "{sentence} {prompt}", λ = 1): the one-hot gradient (forward and frozen backward of the batch, one n × V GEMM),
// each position's exact next-token NLL, then every candidate scored exactly — task cross-entropy over the
// sentences' cached prefixes and the candidate's log-perplexity. The step is timed with the search's state
// restored before each repeat, so every repeat does the same work.
import Models
import Tokenizers
import Tuning

public final class GemmaGCGStepWorkload: Workload {
    let tuner: GCGTuner
    let sentences: [EncodedExample]
    public let note: String?

    public init(model: DecoderModel, input: GemmaClassifyBatch, tokenizer: any Tokenizer) throws {
        sentences = RLPromptBenchmarkSetup.examples(input)
        var configuration = TuningConfiguration(method: .gcg)
        configuration.batchSize = sentences.count
        configuration.scrutability = 1
        configuration.steps = TuningConfiguration.stepLimit  // never reached: the benchmark times single steps
        configuration.evaluateEvery = TuningConfiguration.stepLimit
        configuration.initialization = .text("Overall, the movie was")
        configuration.promptLength = tokenizer.encode("Overall, the movie was").count
        tuner = try GCGTuner(model: model, tokenizer: tokenizer,
                             data: TuningData(train: sentences, dev: [], verbalizer: GemmaClassifyBatch.labelWords),
                             configuration: configuration)
        let s = configuration.search
        note = "\(s.candidates) candidates (\(s.candidatesPerPosition) tokens per position, edit budget \(s.editBudget.description)) "
            + "of \(configuration.promptLength) tokens scored on \(sentences.count) sentences, λ 1"
    }

    public var name: String { "gemma3-270m/gcg-step" }
    public var B: Int { sentences.count }
    public var T: Int { (sentences.map(\.prefix.count).max() ?? 0) + tuner.configuration.promptLength }
    public var examples: Int? { sentences.count }
    public var flops: Double? { nil }

    public func step() throws {
        let saved = tuner.state
        _ = try tuner.step()
        tuner.restore(saved)
    }
}
