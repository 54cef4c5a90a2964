// Loads a decoder from a Hugging Face folder: config.json (model_type llama, qwen2 or gemma3_text) and
// model.safetensors, or shards listed in model.safetensors.index.json; tensors in F32, F16 or BF16. The
// configuration is read in both spellings transformers has written (rope_theta / rope_scaling, and v5's
// rope_parameters); values the engine does not implement are refused with the key named, never ignored.
import Foundation
import WeightFiles

extension DecoderModel {
    /// The model types whose Hugging Face folders this reads.
    public static let huggingFaceModelTypes = ["llama", "qwen2", "gemma3_text"]

    public static func load(huggingFace directory: URL) throws -> DecoderModel {
        let config = try DecoderConfig(huggingFace: HuggingFaceConfig(directory.appendingPathComponent("config.json")))
        let model = try DecoderModel(config: config)
        try model.load(fromShards: try SafetensorsShards(directory: directory))
        model.source = directory.lastPathComponent
        return model
    }

    /// The checkpoint's name for each layout name: the inverse of llama.cpp's tensor renaming.
    func huggingFaceName(_ name: String) -> String {
        let gemma = config.architecture == .gemma3
        let fixed: [String: String] = ["token_embd.weight": "model.embed_tokens.weight", "output_norm.weight": "model.norm.weight",
                                       "output.weight": "lm_head.weight"]
        if let name = fixed[name] { return name }
        // blk.L.<tensor>
        let parts = name.split(separator: ".", maxSplits: 2).map(String.init)
        precondition(parts.count == 3 && parts[0] == "blk", "unexpected layout name \(name)")
        let block = "model.layers.\(parts[1])."
        let tensors: [String: String] = [
            "attn_norm.weight": "input_layernorm.weight",
            "attn_q.weight": "self_attn.q_proj.weight", "attn_k.weight": "self_attn.k_proj.weight",
            "attn_v.weight": "self_attn.v_proj.weight", "attn_q.bias": "self_attn.q_proj.bias",
            "attn_k.bias": "self_attn.k_proj.bias", "attn_v.bias": "self_attn.v_proj.bias",
            "attn_q_norm.weight": "self_attn.q_norm.weight", "attn_k_norm.weight": "self_attn.k_norm.weight",
            "attn_output.weight": "self_attn.o_proj.weight",
            "post_attention_norm.weight": "post_attention_layernorm.weight",
            // Llama's norm before the MLP is called post_attention_layernorm; Gemma's is pre_feedforward_layernorm.
            "ffn_norm.weight": gemma ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight",
            "ffn_gate.weight": "mlp.gate_proj.weight", "ffn_up.weight": "mlp.up_proj.weight", "ffn_down.weight": "mlp.down_proj.weight",
            "post_ffw_norm.weight": "post_feedforward_layernorm.weight",
        ]
        guard let tensor = tensors[parts[2]] else { preconditionFailure("no Hugging Face name for \(name)") }
        return block + tensor
    }

    func load(fromShards shards: SafetensorsShards) throws {
        let names = Dictionary(uniqueKeysWithValues: layout.entries.map { (huggingFaceName($0.name), $0) })
        // A tied head may still be saved as lm_head.weight: it is the embedding, so it is not read.
        let ignored: Set<String> = config.tiedHead ? ["lm_head.weight"] : []
        if let stray = shards.names.sorted().first(where: { names[$0] == nil && !ignored.contains($0) && !$0.hasSuffix("rotary_emb.inv_freq") }) {
            throw ModelLoadError.unexpectedTensor(name: stray)
        }
        for (name, entry) in names {
            guard let (file, stored) = shards.entry(name) else { throw ModelLoadError.missingTensor(name: name) }
            guard ["F32", "F16", "BF16"].contains(stored.dtype) else { throw ModelLoadError.wrongDType(name: name, found: stored.dtype) }
            guard stored.shape == entry.shape else { throw ModelLoadError.wrongShape(name: name, expected: entry.shape, found: stored.shape) }
            let destination = parameters.pointer + entry.offset
            try file.read(name, into: destination)
            // Gemma's RMSNorm multiplies by (1 + w); llama.cpp's files, and this layout, store 1 + w.
            if config.architecture == .gemma3, entry.name.hasSuffix("norm.weight") {
                for i in 0..<entry.count { destination[i] += 1 }
            }
        }
    }
}

/// The safetensors files of one checkpoint: model.safetensors, or the shards an index names.
struct SafetensorsShards {
    let files: [SafetensorsFile]
    private let fileOfTensor: [String: Int]
    var names: [String] { Array(fileOfTensor.keys) }

    init(directory: URL) throws {
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        var paths: [String]
        if FileManager.default.fileExists(atPath: single.path) {
            paths = [single.path]
        } else if let data = try? Data(contentsOf: index) {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let map = object["weight_map"] as? [String: String] else {
                throw ModelLoadError.invalidConfig("\(index.path): expected an object with a weight_map of tensor names to files")
            }
            let shardNames = Set(map.values).sorted()
            for shard in shardNames where shard.contains("/") || shard.hasPrefix(".") {
                throw ModelLoadError.invalidConfig("\(index.path) names a shard outside its folder: \(shard)")
            }
            paths = shardNames.map { directory.appendingPathComponent($0).path }
        } else {
            throw ModelLoadError.missingFile(single.path, hint: "a Hugging Face folder holds model.safetensors or model.safetensors.index.json with its shards")
        }
        var files: [SafetensorsFile] = [], fileOfTensor: [String: Int] = [:]
        for path in paths {
            guard FileManager.default.fileExists(atPath: path) else {
                throw ModelLoadError.missingFile(path, hint: "the index lists this shard; download every shard of the checkpoint")
            }
            let file: SafetensorsFile
            do { file = try SafetensorsFile(path: path) } catch { throw ModelLoadError.invalidConfig("\(error)") }
            for name in file.entries.keys {
                if fileOfTensor[name] != nil { throw ModelLoadError.invalidConfig("tensor '\(name)' is stored in two shards") }
                fileOfTensor[name] = files.count
            }
            files.append(file)
        }
        self.files = files; self.fileOfTensor = fileOfTensor
    }

    func entry(_ name: String) -> (SafetensorsFile, SafetensorsEntry)? {
        guard let i = fileOfTensor[name], let entry = files[i].entries[name] else { return nil }
        return (files[i], entry)
    }
}

/// config.json as a dictionary, with typed reads that name the key in their errors.
struct HuggingFaceConfig {
    let path: String
    let values: [String: Any]

    init(_ url: URL) throws {
        path = url.path
        guard let data = try? Data(contentsOf: url) else { throw ModelLoadError.missingFile(url.path, hint: "a Hugging Face folder holds config.json") }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ModelLoadError.invalidConfig("\(url.path) is not a JSON object")
        }
        values = object
    }

    func has(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

    func int(_ key: String, default fallback: Int? = nil) throws -> Int {
        guard has(key) else {
            if let fallback { return fallback }
            throw ModelLoadError.invalidConfig("\(path) lacks '\(key)'")
        }
        // JSONSerialization gives NSNumber: an integer key must hold an integral value that fits.
        guard let number = values[key] as? NSNumber, let value = Int(exactly: number.doubleValue), Double(value) == number.doubleValue else {
            throw ModelLoadError.invalidValue(key: key, value: "\(values[key]!)", expected: "an integer")
        }
        return value
    }

    func float(_ key: String, default fallback: Float? = nil, in object: [String: Any]? = nil) throws -> Float {
        let source = object ?? values
        guard let raw = source[key], !(raw is NSNull) else {
            if let fallback { return fallback }
            throw ModelLoadError.invalidConfig("\(path) lacks '\(key)'")
        }
        guard let number = raw as? NSNumber, !(raw is Bool) else {
            throw ModelLoadError.invalidValue(key: key, value: "\(raw)", expected: "a number")
        }
        return number.floatValue
    }

    func bool(_ key: String, default fallback: Bool) throws -> Bool {
        guard has(key) else { return fallback }
        guard let value = values[key] as? Bool else { throw ModelLoadError.invalidValue(key: key, value: "\(values[key]!)", expected: "true or false") }
        return value
    }

    func string(_ key: String) -> String? { values[key] as? String }

    /// RoPE base and linear factor of one `rope_parameters` object (`key` names it in errors).
    func rope(in parameters: [String: Any], key: String, defaultBase: Float) throws -> (base: Float, linearScaling: Float) {
        let base = try float("rope_theta", default: defaultBase, in: parameters)
        let type = (parameters["rope_type"] ?? parameters["type"]) as? String ?? "default"
        switch type {
        case "default": return (base, 1)
        case "linear": return (base, try float("factor", in: parameters))
        default: throw ModelLoadError.invalidValue(key: "\(key).rope_type", value: type, expected: "default or linear (the RoPE scalings Legible implements)")
        }
    }

    /// RoPE base and linear factor from `rope_parameters` (transformers 5) or `rope_theta` and `rope_scaling`.
    /// Scaling types other than linear are refused.
    func rope(defaultBase: Float) throws -> (base: Float, linearScaling: Float) {
        let parameters = values["rope_parameters"] as? [String: Any]
        let scaling = parameters ?? (values["rope_scaling"] as? [String: Any])
        let base = try parameters.map { try float("rope_theta", default: defaultBase, in: $0) } ?? float("rope_theta", default: defaultBase)
        guard let scaling else { return (base, 1) }
        let type = (scaling["rope_type"] ?? scaling["type"]) as? String ?? "default"
        let key = parameters != nil ? "rope_parameters.rope_type" : "rope_scaling.rope_type"
        switch type {
        case "default": return (base, 1)
        case "linear": return (base, try float("factor", in: scaling))
        default: throw ModelLoadError.invalidValue(key: key, value: type, expected: "default or linear (the RoPE scalings Legible implements)")
        }
    }

    /// Refuses a key whose value this engine would otherwise ignore.
    func require(_ key: String, isOneOf allowed: [String], because reason: String) throws {
        guard has(key) else { return }
        let raw = values[key]!
        let value = (raw as? Bool).map { $0 ? "true" : "false" } ?? "\(raw)"
        guard allowed.contains(value) else {
            throw ModelLoadError.invalidValue(key: key, value: value, expected: "\(allowed.joined(separator: " or ")) (\(reason))")
        }
    }
}

extension DecoderConfig {
    init(huggingFace c: HuggingFaceConfig) throws {
        let modelType = c.string("model_type") ?? "(none)"
        let width = try c.int("hidden_size"), heads = try c.int("num_attention_heads")
        try ModelLimits.check("num_attention_heads", heads, 1...ModelLimits.heads)
        let headSize = try c.int("head_dim", default: width / heads)
        let common = (layers: try c.int("num_hidden_layers"), kvHeads: try c.int("num_key_value_heads", default: heads),
                      feedForward: try c.int("intermediate_size"), vocabulary: try c.int("vocab_size"),
                      context: try c.int("max_position_embeddings"), epsilon: try c.float("rms_norm_eps", default: 1e-6))
        switch modelType {
        case "llama", "qwen2":
            try c.require("hidden_act", isOneOf: ["silu"], because: "the Llama family's SwiGLU")
            try c.require("mlp_bias", isOneOf: ["false"], because: "MLP biases are not implemented")
            if modelType == "qwen2" {
                try c.require("use_sliding_window", isOneOf: ["false"], because: "sliding-window attention is implemented for Gemma 3 only")
            }
            let rope = try c.rope(defaultBase: 10_000)
            // Qwen2 always has q/k/v biases; Llama has them when attention_bias is set (and then on o_proj too).
            try c.require("attention_bias", isOneOf: ["false"], because: "Llama's attention_bias also puts a bias on o_proj, which is not implemented")
            self = .llama(modelType == "qwen2" ? .qwen2 : .llama, layers: common.layers, width: width, heads: heads,
                          kvHeads: common.kvHeads, headSize: headSize, feedForwardWidth: common.feedForward,
                          vocabularySize: common.vocabulary, context: common.context, normEpsilon: common.epsilon,
                          ropeBase: rope.base, attentionBias: modelType == "qwen2",
                          tiedHead: try c.bool("tie_word_embeddings", default: false))
            ropeLinearScaling = rope.linearScaling
        case "gemma3_text":
            try c.require("hidden_activation", isOneOf: ["gelu_pytorch_tanh"], because: "Gemma's GeGLU uses the tanh GELU")
            try c.require("final_logit_softcapping", isOneOf: [], because: "logit soft-capping is not implemented")
            try c.require("attn_logit_softcapping", isOneOf: [], because: "logit soft-capping is not implemented")
            try c.require("attention_bias", isOneOf: ["false"], because: "Gemma 3 has no attention biases")
            // transformers 5 keys Gemma 3's RoPE by layer type; older configs give rope_theta and rope_local_base_freq.
            let byLayerType = c.values["rope_parameters"] as? [String: Any]
            let full = byLayerType?["full_attention"] as? [String: Any], sliding = byLayerType?["sliding_attention"] as? [String: Any]
            let rope = try full.map { try c.rope(in: $0, key: "rope_parameters.full_attention", defaultBase: 1_000_000) }
                ?? c.rope(defaultBase: 1_000_000)
            let local = try sliding.map { try c.rope(in: $0, key: "rope_parameters.sliding_attention", defaultBase: 10_000) }
            if let local, local.linearScaling != 1 {
                throw ModelLoadError.invalidValue(key: "rope_parameters.sliding_attention.rope_type", value: "linear",
                                                  expected: "default (scaling is implemented on the full-attention layers only)")
            }
            self = .gemma3(layers: common.layers, width: width, heads: heads, kvHeads: common.kvHeads, headSize: headSize,
                           feedForwardWidth: common.feedForward, vocabularySize: common.vocabulary, context: common.context,
                           normEpsilon: common.epsilon, globalRopeBase: rope.base,
                           slidingWindow: try c.int("sliding_window", default: 512))
            ropeLinearScaling = rope.linearScaling
            localRopeBase = try local?.base ?? c.float("rope_local_base_freq", default: 10_000)
            queryPreAttentionScalar = try c.float("query_pre_attn_scalar", default: Float(headSize))
            tiedHead = try c.bool("tie_word_embeddings", default: true)
            try readLayerPattern(c)
        default:
            throw ModelLoadError.invalidConfig("\(c.path): model_type '\(modelType)' is not one Legible reads; known: gpt2, \(DecoderModel.huggingFaceModelTypes.joined(separator: ", "))")
        }
        // Validated here so a refusal names config.json's key, not the GGUF key validate() speaks of.
        do { try validate() } catch ModelLoadError.invalidValue(let key, let value, let expected) {
            let suffix = key.split(separator: ".", maxSplits: 1).last.map(String.init) ?? key
            let names = ["block_count": "num_hidden_layers", "embedding_length": "hidden_size", "attention.head_count": "num_attention_heads",
                         "attention.head_count_kv": "num_key_value_heads", "attention.key_length": "head_dim",
                         "feed_forward_length": "intermediate_size", "context_length": "max_position_embeddings",
                         "attention.sliding_window": "sliding_window", "attention.layer_norm_rms_epsilon": "rms_norm_eps",
                         "rope.freq_base": "rope_theta", "rope.scaling.factor": "factor", "ggml.tokens (count)": "vocab_size"]
            var message = expected
            for (gguf, name) in names { message = message.replacingOccurrences(of: "\(architecture.rawValue).\(gguf)", with: name) }
            throw ModelLoadError.invalidValue(key: names[suffix] ?? key, value: value, expected: message)
        }
    }

    /// Gemma 3's sliding and full layers, from `layer_types` (transformers 5) or `sliding_window_pattern`: only a
    /// pattern of every n-th layer full is implemented, so any other list is refused.
    private mutating func readLayerPattern(_ c: HuggingFaceConfig) throws {
        if c.has("sliding_window_pattern") { slidingWindowPattern = try c.int("sliding_window_pattern") }
        guard let types = c.values["layer_types"] as? [String] else { return }
        let full = types.indices.filter { types[$0] == "full_attention" }
        guard types.count == layers, types.allSatisfy({ $0 == "full_attention" || $0 == "sliding_attention" }),
              let first = full.first else {
            throw ModelLoadError.invalidValue(key: "layer_types", value: "\(types)", expected: "\(layers) entries of sliding_attention and full_attention, some full")
        }
        slidingWindowPattern = first + 1
        guard (0..<layers).allSatisfy({ isGlobal(layer: $0) == (types[$0] == "full_attention") }) else {
            throw ModelLoadError.invalidValue(key: "layer_types", value: "\(types)", expected: "every \(slidingWindowPattern)-th layer full_attention (the only pattern implemented)")
        }
    }
}
