// `legible info`: what a model is and what it will run on.
import ArgumentParser
import Foundation
import Kernels
import Models

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a model's configuration, size and the BLAS it runs on.")

    @OptionGroup var options: ModelOptions
    @Flag(help: "Print JSON instead of text.") var json = false

    func run() throws {
        let loaded = try LoadedModel.load(options)
        let model = loaded.model
        var facts: [(String, String)] = [
            ("model", model.summary),
            ("parameters", "\(model.parameterCount)"),
            ("weights in memory", String(format: "%.1f MB (float32)", Double(model.parameterCount) * 4 / 1e6)),
            ("context", model.contextLength.map { "\($0) tokens" } ?? "unbounded"),
            ("vocabulary", "\(model.vocabularySize)"),
            ("tokenizer", loaded.tokenizer.map { "\(type(of: $0)), \($0.vocabularySize) tokens" } ?? "none (use --ids)"),
            ("BLAS", "OpenBLAS, core \(BLAS.coreName), \(BLAS.threads) threads"),
        ]
        if let decoder = model as? DecoderModel, decoder.config.architecture == .gpt2 {
            let c = decoder.config
            facts.insert(("config", "n_layer \(c.layers), n_head \(c.heads), n_embd \(c.width), n_positions \(c.context), vocab_size \(c.vocabularySize), layer_norm_epsilon \(c.normEpsilon), gelu_new"), at: 1)
        } else if let decoder = model as? DecoderModel {
            let c = decoder.config, a = c.architecture.rawValue
            let global = (0..<c.layers).filter { c.isGlobal(layer: $0) }.map(String.init).joined(separator: ", ")
            let window = c.slidingWindow.map { "sliding_window \($0) (global layers \(global)), rope bases \(c.localRopeBase)/\(c.globalRopeBase)" }
                ?? "rope base \(c.globalRopeBase)"
            let scaling = c.ropeLinearScaling == 1 ? "" : ", rope linear scaling \(c.ropeLinearScaling)"
            facts.insert(("config", "\(a): block_count \(c.layers), embedding_length \(c.width), head_count \(c.heads), head_count_kv \(c.kvHeads), key_length \(c.headSize), feed_forward_length \(c.feedForwardWidth), \(c.feedForward.rawValue), \(window)\(scaling), \(c.attentionBias ? "qkv bias, " : "")\(c.tiedHead ? "tied head" : "untied head")"), at: 1)
        }
        if json {
            let object = Dictionary(uniqueKeysWithValues: facts.map { ($0.0.replacingOccurrences(of: " ", with: "_"), $0.1) })
            print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
        } else {
            let width = facts.map(\.0.count).max()!
            for (key, value) in facts { print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
        }
    }
}
