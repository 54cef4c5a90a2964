// GPT-2 (Radford et al. 2019) as a configuration of DecoderModel, as in transformers' modeling_gpt2.py: learned
// position embeddings added to the inputs, LayerNorm with biases, one fused Conv1D query-key-value projection,
// biases on every projection, a plain two-layer GELU MLP of width 4C, and the head tied to wte. Read from a Hugging
// Face folder (config.json + model.safetensors); the parameters keep the checkpoint's names (without the optional
// `transformer.` prefix) and Conv1D's [in, out] matrices.
import Foundation
import Kernels
import WeightFiles

extension GPT2Config {
    /// The decoder this configuration describes.
    public var decoder: DecoderConfig {
        var c = DecoderConfig(architecture: .gpt2, layers: layers, width: width, heads: heads, kvHeads: heads, headSize: headSize,
                              feedForwardWidth: 4 * width, vocabularySize: vocabularySize, context: positions,
                              normEpsilon: layerNormEpsilon, feedForward: .gelu, scalesEmbeddings: false, queryKeyNorm: false,
                              sandwichNorms: false, attentionBias: true, tiedHead: true, globalRopeBase: 1)
        c.normalization = .layer
        c.positions = .learned
        c.conv1DProjections = true
        return c
    }

    /// Every parameter, once: the loader, the verifier and the gradient views all read this map.
    public var parameterLayout: ParameterLayout { decoder.gpt2ParameterLayout }
}

extension DecoderConfig {
    var gpt2ParameterLayout: ParameterLayout {
        let C = width
        var layout = ParameterLayout()
        layout.add("wte.weight", [vocabularySize, C])
        layout.add("wpe.weight", [context, C])
        for l in 0..<layers {
            layout.add("h.\(l).ln_1.weight", [C])
            layout.add("h.\(l).ln_1.bias", [C])
            layout.add("h.\(l).attn.c_attn.weight", [C, 3 * C])
            layout.add("h.\(l).attn.c_attn.bias", [3 * C])
            layout.add("h.\(l).attn.c_proj.weight", [C, C])
            layout.add("h.\(l).attn.c_proj.bias", [C])
            layout.add("h.\(l).ln_2.weight", [C])
            layout.add("h.\(l).ln_2.bias", [C])
            layout.add("h.\(l).mlp.c_fc.weight", [C, 4 * C])
            layout.add("h.\(l).mlp.c_fc.bias", [4 * C])
            layout.add("h.\(l).mlp.c_proj.weight", [4 * C, C])
            layout.add("h.\(l).mlp.c_proj.bias", [C])
        }
        layout.add("ln_f.weight", [C])
        layout.add("ln_f.bias", [C])
        return layout
    }
}

extension DecoderTensors {
    init(gpt2 config: DecoderConfig, layout: ParameterLayout, base: UnsafeMutablePointer<Float>) {
        let p = { (name: String) in layout.pointer(name, in: base) }
        let blocks = (0..<config.layers).map { l in
            let h = "h.\(l)."
            return Block(
                attentionNorm: p(h + "ln_1.weight"), attentionNormBias: p(h + "ln_1.bias"),
                query: p(h + "attn.c_attn.weight"), key: nil, value: nil,
                queryBias: p(h + "attn.c_attn.bias"), keyBias: nil, valueBias: nil, queryNorm: nil, keyNorm: nil,
                attentionOutput: p(h + "attn.c_proj.weight"), attentionOutputBias: p(h + "attn.c_proj.bias"),
                postAttentionNorm: nil, feedForwardNorm: p(h + "ln_2.weight"), feedForwardNormBias: p(h + "ln_2.bias"),
                gate: p(h + "mlp.c_fc.weight"), up: nil, gateBias: p(h + "mlp.c_fc.bias"),
                down: p(h + "mlp.c_proj.weight"), downBias: p(h + "mlp.c_proj.bias"), postFeedForwardNorm: nil)
        }
        self.init(embedding: p("wte.weight"), positionEmbedding: p("wpe.weight"), blocks: blocks,
                  outputNorm: p("ln_f.weight"), outputNormBias: p("ln_f.bias"), head: p("wte.weight"))
    }
}

extension DecoderModel {
    /// Random GPT-2 weights as transformers initializes them, for tests and benchmarks; the configuration is
    /// checked with config.json's names first.
    public convenience init(randomWeightsFor config: GPT2Config, seed: UInt64) throws {
        try config.validate()
        try self.init(randomWeightsFor: config.decoder, seed: seed)
    }
}

/// Loading GPT-2 checkpoints: a Hugging Face folder of config.json + model.safetensors.
public enum GPT2 {
    public static func load(directory: URL) throws -> DecoderModel {
        let config = try GPT2Config.load(from: directory.appendingPathComponent("config.json"))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw ModelLoadError.missingFile(weightsURL.path, hint: "download it with scripts/fetch-model gpt2, or save a model with save_pretrained(..., safe_serialization=True)")
        }
        let file = try SafetensorsFile(path: weightsURL.path)
        let model = try DecoderModel(config: config.decoder)
        try load(model, from: file)
        model.source = directory.lastPathComponent
        return model
    }

    /// Checkpoint tensors that are not parameters: causal-mask buffers, and lm_head, which GPT-2 ties to wte.
    static func isIgnoredCheckpointTensor(_ name: String) -> Bool {
        name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") || name == "lm_head.weight"
    }

    /// The checkpoint's name for a layout name, with or without the `transformer.` prefix.
    static func checkpointName(_ name: String, in file: SafetensorsFile) -> String? {
        if file.entries[name] != nil { return name }
        if file.entries["transformer." + name] != nil { return "transformer." + name }
        return nil
    }

    static func load(_ model: DecoderModel, from file: SafetensorsFile) throws {
        let layout = model.layout
        let known = Set(layout.entries.flatMap { [$0.name, "transformer." + $0.name] })
        if let stray = file.entries.keys.sorted().first(where: { !known.contains($0) && !isIgnoredCheckpointTensor($0) }) {
            throw ModelLoadError.unexpectedTensor(name: stray)
        }
        for entry in layout.entries {
            guard let name = checkpointName(entry.name, in: file), let stored = file.entries[name] else {
                throw ModelLoadError.missingTensor(name: entry.name)
            }
            guard ["F32", "F16", "BF16"].contains(stored.dtype) else {
                throw ModelLoadError.wrongDType(name: name, found: stored.dtype)
            }
            guard stored.shape == entry.shape else {
                throw ModelLoadError.wrongShape(name: name, expected: entry.shape, found: stored.shape)
            }
            try file.read(name, into: model.parameters.pointer + entry.offset)
        }
    }
}
