// `gemma3-270m/evaluate-600`: the test evaluation `legible tune` ends with, on 600 SST-2 test sentences (split
// 16-100, rows spread over the file) with PEZ's template "{prompt} {sentence} It was" and a 10-token prompt: five
// passes over the sentences (the soft prompt, its projection as ids, its text, and the zero-shot empty and manual
// prompts) plus the prompt's log-perplexity. `gemma3-270m/evaluate-600-whole` is the same with every sequence run
// whole, without sharing `<bos>` + prompt between the sentences: run together, the two give that saving in one run.
import Foundation
import Kernels
import Models
import Runs
import Tasks
import Tokenizers
import Tuning

public final class GemmaEvaluateWorkload: Workload {
    static let testLimit = 600, promptLength = 10
    let evaluator: PromptEvaluator
    let soft: PromptEmbeddings
    let ids: [Int32]
    public let name: String
    public let note: String?
    public let examples: Int?

    /// `sentences`: an SST-2 test.tsv inside a few-shot data root (ROOT/sst-2/16-100/test.tsv).
    public init(model: DecoderModel, tokenizer: any Tokenizer, sentences: URL, shareStart: Bool) throws {
        let root = sentences.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let task = try PromptTask(name: "sst-2", split: "16-100", dataRoot: root, template: TaskTemplate.pez, tokenizer: tokenizer)
        evaluator = PromptEvaluator(model: model, tokenizer: tokenizer, task: task, testLimit: Self.testLimit, sharesStart: shareStart)
        // A fixed prompt of ordinary tokens; the soft prompt is its embeddings moved off them, as a tuned one is.
        var rng = SeededGenerator(seed: 29)
        ids = (0..<Self.promptLength).map { _ in Int32(1000 + rng.next() % 100_000) }
        var embedded = try model.promptEmbeddings(of: ids)
        for i in embedded.values.indices { embedded.values[i] += 0.01 * rng.nextNormal() }
        soft = embedded
        name = shareStart ? "gemma3-270m/evaluate-600" : "gemma3-270m/evaluate-600-whole"
        let count = min(Self.testLimit, task.test.count)
        examples = count
        note = "\(count) SST-2 test sentences × 5 passes (soft, ids, text, empty, manual), prompt \(Self.promptLength) tokens, "
            + (shareStart ? "the start the sentences share (<bos> and the prompt) run once per pass" : "every sequence whole")
    }

    /// On the benchmark's Gemma GGUF and SST-2 sentences; the sentences are required (the workload is their evaluation).
    static func make(model: DecoderModel, shareStart: Bool) throws -> GemmaEvaluateWorkload {
        guard let sentences = GemmaBenchmarkFiles.sentences() else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "evaluate-600 needs \(GemmaBenchmarkFiles.sentenceFiles[0])"])
        }
        return try GemmaEvaluateWorkload(model: model, tokenizer: try SentencePieceTokenizer(ggufFile: GemmaBenchmarkFiles.model()!),
                                         sentences: sentences, shareStart: shareStart)
    }

    public var B: Int { examples ?? 0 }
    public var T: Int { 0 }
    public var flops: Double? { nil }

    public func step() throws { _ = try evaluator.evaluate(soft: soft, ids: ids) }
}
