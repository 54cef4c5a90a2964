// Gemma 3 270M workloads on the real GGUF weights. `gemma3-270m/classify`: a batch of SST-2 test sentences
// as "<sentence> It was", forward with the LM head only at each example's last real token and only on two
// verbalizer rows, as a prompt-tuned classifier runs. Dimensions: B examples, Lᵦ their lengths, N = Σ Lᵦ,
// C channels, H/G query/key-value heads, D head size, F feed-forward width, L layers.
import Foundation
import Kernels
import Models
import Tokenizers
import Tuning

/// Where the benchmark finds Gemma 3 and the SST-2 sentences.
public enum GemmaBenchmarkFiles {
    public static let environmentKey = "LEGIBLE_GEMMA_GGUF"
    public static let defaultModel = "models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf"
    public static let sentenceFiles = ["data/fewshot/sst-2/16-100/test.tsv", "../shared/data/fewshot/sst-2/16-100/test.tsv"]

    /// `LEGIBLE_GEMMA_GGUF` if set, else the default path, relative to the working directory; nil when absent.
    public static func model() -> URL? {
        let path = ProcessInfo.processInfo.environment[environmentKey] ?? defaultModel
        return FileManager.default.fileExists(atPath: path) ? URL(fileURLWithPath: path) : nil
    }

    public static func sentences() -> URL? {
        sentenceFiles.first { FileManager.default.fileExists(atPath: $0) }.map { URL(fileURLWithPath: $0) }
    }
}

/// The token ids of the classification batch and how they were made.
public struct GemmaClassifyBatch: Sendable {
    /// " great" and " terrible" (▁great 1822, ▁terrible 21832 in Gemma 3's vocabulary); bench_torch.py uses the same.
    public static let verbalizer: [Int32] = [1822, 21832]
    /// The same words as the tuners' verbalizer, for the PEZ and RLPrompt workloads.
    static let labelWords = Verbalizer(words: [" great", " terrible"], tokens: verbalizer.map { [$0] })
    public static let suffix = " It was"

    public var ids: [[Int32]]
    public var note: String?
    /// The label words' ids in this batch's vocabulary (Gemma's unless loaded for another model).
    public var labelIds: [Int32] = verbalizer

    /// The first `count` sentences of an SST-2 TSV (header `sentence\tlabel`), formatted and tokenized with
    /// the GGUF's own tokenizer (beginning-of-sequence token first, as transformers adds it).
    public static func load(gguf: URL, sentences: URL?, count: Int = 32) throws -> GemmaClassifyBatch {
        guard let sentences else {
            return synthetic(count: count, note: "synthetic token ids (lengths 20-40): no SST-2 test.tsv found")
        }
        let texts = try String(contentsOf: sentences, encoding: .utf8)
            .split(whereSeparator: \.isNewline).dropFirst().prefix(count)  // \r\n is one Character
            .map { line in String(line.split(separator: "\t", omittingEmptySubsequences: false)[0]) + suffix }
        let tokenizer = try SentencePieceTokenizer(ggufFile: gguf)
        return GemmaClassifyBatch(ids: texts.map { tokenizer.encode($0, addSpecial: true) }, note: nil)
    }

    /// The same sentences for any GGUF model, tokenized by its own tokenizer (with its beginning-of-sequence token
    /// if it adds one), with the ids of " great" and " terrible" in its vocabulary.
    public static func load(anyGGUF gguf: URL, sentences: URL?, count: Int = 32) throws -> GemmaClassifyBatch {
        let tokenizer = try GGUFTokenizer.load(gguf)
        let labelIds = [" great", " terrible"].map { tokenizer.encode($0) }
        guard labelIds.allSatisfy({ $0.count == 1 }) else { throw TokenizerError.unsupported(path: gguf.path, reason: "a label word is not one token") }
        guard let sentences else {
            var batch = synthetic(count: count, note: "synthetic token ids (lengths 20-40): no SST-2 test.tsv found")
            batch.labelIds = labelIds.map { $0[0] }
            return batch
        }
        let texts = try String(contentsOf: sentences, encoding: .utf8)
            .split(whereSeparator: \.isNewline).dropFirst().prefix(count)
            .map { line in String(line.split(separator: "\t", omittingEmptySubsequences: false)[0]) + suffix }
        let ids = texts.map { tokenizer.encode($0, addSpecial: true) }
        var batch = GemmaClassifyBatch(ids: ids, note: nil)
        batch.labelIds = labelIds.map { $0[0] }
        return batch
    }

    /// One sequence of `count` tokens: the batch's sentences one after another, cut at `count` (the prefill
    /// workload: llama-bench's pp512 on the same kind of text).
    public func concatenated(_ count: Int) -> GemmaClassifyBatch {
        var joined = Array(ids.joined())
        while !joined.isEmpty, joined.count < count { joined += joined }
        var batch = GemmaClassifyBatch(ids: [Array(joined.prefix(count))], note: note)
        batch.labelIds = labelIds
        return batch
    }

    /// Fixed pseudo-random ids of lengths 20…40, for when the sentences are not at hand.
    public static func synthetic(count: Int, note: String) -> GemmaClassifyBatch {
        var rng = SeededGenerator(seed: 3)
        let ids = (0..<count).map { _ in
            (0..<(20 + Int(rng.next() % 21))).map { _ in Int32(1000 + rng.next() % 100_000) }
        }
        return GemmaClassifyBatch(ids: ids, note: note)
    }
}

public final class GemmaClassifyWorkload: Workload {
    let model: DecoderModel
    let batch: RaggedBatch
    let flatIds: [Int32]
    let head: HeadRequest
    let inputs: FloatBuffer   // (N, C)
    public let note: String?

    let labelCount: Int
    public let name: String

    public init(model: DecoderModel, input: GemmaClassifyBatch, name: String = "gemma3-270m/classify") throws {
        self.model = model; self.name = name; labelCount = input.labelIds.count
        batch = try DecoderModel.batch(for: input.ids)
        flatIds = input.ids.flatMap { $0 }
        head = .lastTokens(of: batch, vocabulary: input.labelIds)
        inputs = FloatBuffer(count: batch.tokenCount * model.width)
        let lengths = input.ids.map(\.count)
        let range = "lengths \(lengths.min()!)-\(lengths.max()!), \(batch.tokenCount) tokens"
        note = input.note.map { "\($0); \(range)" } ?? range
    }

    public var B: Int { batch.count }
    public var T: Int { batch.maxLength }
    public var examples: Int? { batch.count }
    public var tokens: Int? { batch.tokenCount }

    /// Per layer: q, k, v 2·N·C·(Q + 2K), output 2·N·Q·C, gate and up 2·2·N·C·F, down 2·N·F·C, with Q = H·D and
    /// K = G·D; attention 4·Lᵦ²·Q per example (full squares, as the kernel computes them). Head: 2·B·C·2.
    public var flops: Double? {
        let c = model.config
        let (N, C, F) = (Double(batch.tokenCount), Double(c.width), Double(c.feedForwardWidth))
        let Q = Double(c.heads * c.headSize), K = Double(c.kvHeads * c.headSize)
        let linear = 2 * N * C * (Q + 2 * K) + 2 * N * Q * C + 4 * N * C * F + 2 * N * F * C
        let attention = batch.lengths.reduce(0.0) { $0 + 4 * Double($1 * $1) * Q }
        let head = 2 * Double(batch.count) * C * Double(labelCount)
        return Double(c.layers) * (linear + attention) + head
    }

    /// Embedding lookup and forward: what classifying a batch of ids costs.
    public func step() throws {
        try model.embed(flatIds, into: inputs.pointer)
        _ = try model.forward(inputs: inputs.pointer, batch: batch, head: head)
    }
}

/// Greedy decoding of 128 tokens after the batch's first sentence, one token at a time through the key/value
/// cache, as `legible generate` runs it: what a decoding step costs (memory-bound: every weight is read per token).
public final class GenerateWorkload: Workload {
    let model: DecoderModel
    let prompt: [Int32]
    public let name: String
    public static let tokens = 128

    let sampling: SamplingOptions

    /// Greedy, or with `sampling` (the `generate-128-sampled` workload: temperature 1, top-p 0.9).
    public init(model: DecoderModel, input: GemmaClassifyBatch, name: String = "gemma3-270m/generate-128", sampling: SamplingOptions = .greedy) {
        self.model = model; self.name = name; self.sampling = sampling
        prompt = input.ids[0]
    }

    public var B: Int { 1 }
    public var T: Int { prompt.count + Self.tokens }
    /// Tokens generated per step, so the report's rate is tokens per second.
    public var examples: Int? { Self.tokens }
    public var tokens: Int? { Self.tokens }
    public var flops: Double? { nil }
    public var note: String? {
        let how = sampling.temperature <= 0 ? "greedy" : "sampled at temperature \(sampling.temperature)" + (sampling.topP.map { ", top-p \($0)" } ?? "")
        return "\(prompt.count)-token prompt, \(Self.tokens) tokens \(how); examples/s is tokens/s"
    }

    public func step() throws {
        // No stop token: always the full 128.
        let produced = try model.generate(prompt: prompt, options: GenerationOptions(maxTokens: Self.tokens, sampling: sampling))
        precondition(produced.count == Self.tokens, "generation stopped at \(produced.count) tokens")
    }
}

/// RLPrompt's rollout without its policy head: 16 sequences decoded together for 5 tokens from `<bos>`, one batched
/// forward per token through 16 key/value caches, full-vocabulary logits for each row, greedy choice. The 16 × 5
/// shape `legible tune --method rlprompt` samples its prompts in (llama-batched-bench -npp 1 -ntg 5 -npl 16).
public final class RolloutWorkload: Workload {
    public static let sequences = 16, length = 5
    let model: DecoderModel
    let start: Int32
    let inputs: FloatBuffer, logits: FloatBuffer
    public let name = "gemma3-270m/rollout-16x5"

    public init(model: DecoderModel, start: Int32) {
        self.model = model; self.start = start
        inputs = FloatBuffer(count: Self.sequences * model.width)
        logits = FloatBuffer(count: Self.sequences * model.vocabularySize)
    }

    public var B: Int { Self.sequences }
    public var T: Int { Self.length }
    public var examples: Int? { Self.sequences }
    public var tokens: Int? { Self.sequences * Self.length }
    public var flops: Double? { nil }
    public var note: String? { "\(Self.sequences) sequences × \(Self.length) greedy tokens from <bos>, batched; tokens/s counts generated tokens" }

    public func step() throws {
        let S = Self.sequences, V = model.vocabularySize
        let caches = (0..<S).map { _ in model.makeCache(capacity: Self.length + 1) }
        var next = [Int32](repeating: start, count: S)
        for _ in 0..<Self.length {
            try model.embed(next, into: inputs.pointer)
            let hidden = try model.forward(inputs: inputs.pointer, batch: RaggedBatch(lengths: Array(repeating: 1, count: S)),
                                           continuing: caches, extend: true)
            model.headLogits(hidden: hidden, rows: S, into: logits.pointer)
            for s in 0..<S { next[s] = Int32(argmax(UnsafeBufferPointer(start: logits.pointer + s * V, count: V))) }
        }
    }
}
