// `gemma3-270m/pez-step`: one PEZ step as `legible tune` runs it (default batch 16, 10-token prompt, no
// scrutability term): project the prompt to its nearest tokens (a 10 × 262,144 GEMM), forward the batch with the
// projection spliced in, cross-entropy over the verbalizer logits, frozen-weights backward, AdamW on the prompt.
// The batch's shared start (`<bos>` and the prompt) runs once; `gemma3-270m/pez-step-whole` runs every sequence
// whole: run together, the two give that saving in one run.
import Models
import Tokenizers
import Tuning

public final class GemmaPEZStepWorkload: Workload {
    let tuner: PromptTuner
    let lengths: [Int]
    public let note: String?

    public let name: String

    public init(model: DecoderModel, input: GemmaClassifyBatch, tokenizer: any Tokenizer, batchSize: Int = 16, promptLength: Int = 10,
                shareStart: Bool = true) throws {
        // The classify batch is "<bos> sentence It was"; the prompt goes right after <bos>, as PEZ's template puts it.
        let examples = input.ids.prefix(batchSize).enumerated().map { i, ids in
            EncodedExample(prefix: Array(ids.prefix(1)), suffix: Array(ids.dropFirst()), label: i % 2)
        }
        var configuration = TuningConfiguration()
        configuration.method = .pez
        configuration.promptLength = promptLength
        configuration.batchSize = batchSize
        configuration.steps = TuningConfiguration.stepLimit  // never reached: the benchmark times single steps
        configuration.evaluateEvery = TuningConfiguration.stepLimit
        tuner = try PromptTuner(model: model, tokenizer: tokenizer, data: TuningData(train: examples, dev: [], verbalizer: GemmaClassifyBatch.labelWords),
                                configuration: configuration, sharesStart: shareStart)
        lengths = examples.map { $0.length(promptLength: promptLength) }
        name = shareStart ? BenchmarkSuite.gemmaPEZStep[0] : BenchmarkSuite.gemmaPEZStep[1]
        note = "batch \(examples.count), prompt \(promptLength) tokens, lengths \(lengths.min()!)-\(lengths.max()!), "
            + (shareStart ? "<bos> and the prompt run once" : "every sequence whole")
            + (input.note.map { "; \($0)" } ?? "")
    }

    public var B: Int { lengths.count }
    public var T: Int { lengths.max() ?? 0 }
    public var examples: Int? { lengths.count }
    public var flops: Double? { nil }

    public func step() throws { _ = try tuner.step() }
}
