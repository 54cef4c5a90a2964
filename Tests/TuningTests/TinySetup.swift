// A tiny random GPT-2 with the real GPT-2 tokenizer, and a tiny sentiment task on disk: enough to run every
// part of prompt tuning in a second.
import Foundation
import Kernels
import Models
import Reports
import Runs
import Sweeps
import Tasks
import Tokenizers
import WeightFiles
@testable import Tuning

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
let gpt2TokenizerFiles = repositoryRoot.appendingPathComponent("Tests/TokenizersTests/Fixtures")

enum Tiny {
    static let config = GPT2Config(layers: 2, heads: 2, width: 32, positions: 96, vocabularySize: 50257)

    static let tokenizer: any Tokenizer = try! GPT2Tokenizer(
        vocabularyFile: gpt2TokenizerFiles.appendingPathComponent("encoder.json"),
        mergesFile: gpt2TokenizerFiles.appendingPathComponent("vocab.bpe"))

    static func model(seed: UInt64 = 3) -> DecoderModel { try! DecoderModel(randomWeightsFor: config, seed: seed) }

    /// A tiny random Gemma 3 (vocabulary 50): its input embeddings are rows × √32, where GPT-2's are rows × 1.
    static func gemma(seed: UInt64 = 5) -> DecoderModel {
        try! DecoderModel(randomWeightsFor: DecoderConfig.gemma3(layers: 2, width: 32, heads: 4, kvHeads: 2, headSize: 8, feedForwardWidth: 48,
                                              vocabularySize: 50, context: 64, slidingWindow: 3), seed: seed)
    }

    /// A tiny random Qwen2 over GPT-2's vocabulary: QKV biases and an LM head of its own (untied).
    static func untied(seed: UInt64 = 9) -> DecoderModel {
        try! DecoderModel(randomWeightsFor: DecoderConfig.llama(.qwen2, layers: 2, width: 32, heads: 4, kvHeads: 2, headSize: 8,
                                                                feedForwardWidth: 48, vocabularySize: 50257, context: 96,
                                                                attentionBias: true, tiedHead: false), seed: seed)
    }

    static let positive = ["a great and moving film", "wonderful acting and a fine story", "the best movie of the year",
                           "funny , warm and smart", "a delight from start to finish", "beautiful and true"]
    static let negative = ["a dull and boring mess", "the worst film i have seen", "badly acted and far too long",
                           "tedious , flat and silly", "a waste of time", "ugly and stupid"]

    /// data/fewshot-style folder with an sst-2/16-100 split.
    static func dataRoot(trainRepeats: Int = 1, emptyTest: Bool = false) throws -> URL {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("legible-data-\(UUID().uuidString)")
        let split = root.appendingPathComponent("sst-2/16-100")
        try FileManager.default.createDirectory(at: split, withIntermediateDirectories: true)
        let rows = zip(positive, negative).flatMap { ["\($0.0)\t1", "\($0.1)\t0"] }
        let table = { (rows: [String]) in (["sentence\tlabel"] + rows).joined(separator: "\r\n") + "\r\n" }
        try table(Array(repeating: rows, count: trainRepeats).flatMap { $0 }).write(to: split.appendingPathComponent("train.tsv"), atomically: true, encoding: .utf8)
        try table(Array(rows.prefix(6))).write(to: split.appendingPathComponent("dev.tsv"), atomically: true, encoding: .utf8)
        try table(emptyTest ? [] : rows).write(to: split.appendingPathComponent("test.tsv"), atomically: true, encoding: .utf8)
        return root
    }

    static func task(template: String = TaskTemplate.pez) throws -> PromptTask {
        try PromptTask(name: "sst-2", split: "16-100", dataRoot: dataRoot(), template: template, tokenizer: tokenizer)
    }

    static func configuration(_ method: TuningMethod, steps: Int = 20) -> TuningConfiguration {
        var c = TuningConfiguration()
        c.method = method; c.promptLength = 4; c.steps = steps; c.batchSize = 6
        c.learningRate = 0.01; c.weightDecay = 0; c.evaluateEvery = 5; c.seed = 1
        return c
    }

    /// A model directory as Hugging Face writes it: config.json, model.safetensors and tokenizer files.
    static func modelDirectory(_ model: DecoderModel) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("legible-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configJSON = """
        {"n_layer": \(config.layers), "n_head": \(config.heads), "n_embd": \(config.width), "n_positions": \(config.positions), \
        "vocab_size": \(config.vocabularySize), "layer_norm_epsilon": 1e-05, "activation_function": "gelu_new"}
        """
        try configJSON.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        let tensors = model.layout.entries.map { entry in
            SafetensorsWriter.Tensor(name: entry.name, shape: entry.shape,
                                     values: Array(model.parameters.buffer[entry.offset..<(entry.offset + entry.count)]))
        }
        try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
        for file in ["encoder.json", "vocab.bpe"] {
            try FileManager.default.copyItem(at: gpt2TokenizerFiles.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        return directory
    }
}

/// Mean task loss of a prompt over examples (no gradient).
func meanTaskLoss(_ classifier: PromptClassifier, _ examples: [EncodedExample], _ prompt: PromptEmbeddings) throws -> Double {
    let scores = try classifier.labelLogProbabilities(examples, prompt: prompt)
    return zip(scores, examples).reduce(0.0) { $0 - Double($1.0[$1.1.label]) } / Double(examples.count)
}
