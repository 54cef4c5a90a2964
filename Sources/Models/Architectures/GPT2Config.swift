// GPT-2's configuration, read from a Hugging Face config.json (keys as in transformers' GPT2Config).
import Foundation

public struct GPT2Config: Codable, Equatable, Sendable {
    public var layers: Int
    public var heads: Int
    public var width: Int
    public var positions: Int
    public var vocabularySize: Int
    public var layerNormEpsilon: Float
    public var activation: String
    /// MLP width; nil means 4·C.
    public var inner: Int?
    /// transformers options this engine does not implement; a config that turns them on is refused.
    public var scaleAttentionWeights = true
    public var scaleAttentionByInverseLayerIndex = false

    enum CodingKeys: String, CodingKey {
        case layers = "n_layer", heads = "n_head", width = "n_embd", positions = "n_positions"
        case vocabularySize = "vocab_size", layerNormEpsilon = "layer_norm_epsilon"
        case activation = "activation_function", inner = "n_inner"
        case scaleAttentionWeights = "scale_attn_weights"
        case scaleAttentionByInverseLayerIndex = "scale_attn_by_inverse_layer_idx"
    }

    public init(layers: Int, heads: Int, width: Int, positions: Int, vocabularySize: Int,
                layerNormEpsilon: Float = 1e-5, activation: String = "gelu_new") {
        self.layers = layers; self.heads = heads; self.width = width; self.positions = positions
        self.vocabularySize = vocabularySize; self.layerNormEpsilon = layerNormEpsilon; self.activation = activation
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        layers = try c.decode(Int.self, forKey: .layers)
        heads = try c.decode(Int.self, forKey: .heads)
        width = try c.decode(Int.self, forKey: .width)
        positions = try c.decode(Int.self, forKey: .positions)
        vocabularySize = try c.decode(Int.self, forKey: .vocabularySize)
        // transformers' defaults for the two keys older configs omit.
        layerNormEpsilon = try c.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? 1e-5
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? "gelu_new"
        inner = try c.decodeIfPresent(Int.self, forKey: .inner)
        scaleAttentionWeights = try c.decodeIfPresent(Bool.self, forKey: .scaleAttentionWeights) ?? true
        scaleAttentionByInverseLayerIndex =
            try c.decodeIfPresent(Bool.self, forKey: .scaleAttentionByInverseLayerIndex) ?? false
    }

    /// GPT-2 124M, the released `gpt2`.
    public static let gpt2Small = GPT2Config(layers: 12, heads: 12, width: 768, positions: 1024, vocabularySize: 50257)

    public var headSize: Int { width / heads }

    /// Refuses a configuration this engine cannot run, before anything is sized from it: every value within
    /// ModelLimits (so no size computed from them overflows), the heads dividing the width, the options
    /// this engine implements, and parameters that fit in memory. Errors name the config.json key.
    public func validate() throws {
        try ModelLimits.check("n_layer", layers, 1...ModelLimits.layers)
        try ModelLimits.check("n_embd", width, 1...ModelLimits.width)
        try ModelLimits.check("n_head", heads, 1...ModelLimits.heads)
        guard width % heads == 0 else {
            throw ModelLoadError.invalidValue(key: "n_embd", value: "\(width)", expected: "a multiple of n_head (\(heads))")
        }
        try ModelLimits.check("n_positions", positions, 1...ModelLimits.context)
        try ModelLimits.check("vocab_size", vocabularySize, 1...ModelLimits.vocabularySize)
        try ModelLimits.checkNonNegative("layer_norm_epsilon", layerNormEpsilon)
        guard ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(activation) else {
            throw ModelLoadError.invalidValue(key: "activation_function", value: "'\(activation)'",
                                              expected: "gelu_new (or gelu_pytorch_tanh, gelu_fast), the only one supported")
        }
        if let inner, inner != 4 * width {
            throw ModelLoadError.invalidValue(key: "n_inner", value: "\(inner)",
                                              expected: "null or 4·n_embd (\(4 * width)); other MLP widths are not supported")
        }
        guard scaleAttentionWeights else {
            throw ModelLoadError.invalidValue(key: "scale_attn_weights", value: "false", expected: "true, the only one supported")
        }
        guard !scaleAttentionByInverseLayerIndex else {
            throw ModelLoadError.invalidValue(key: "scale_attn_by_inverse_layer_idx", value: "true",
                                              expected: "false, the only one supported")
        }
        try ModelLimits.checkMemory(
            parameterCount: parameterLayout.totalCount,
            model: "GPT-2 with n_layer \(layers), n_embd \(width), n_positions \(positions), vocab_size \(vocabularySize)")
    }

    public static func load(from url: URL) throws -> GPT2Config {
        guard let data = try? Data(contentsOf: url) else { throw ModelLoadError.missingFile(url.path, hint: "a Hugging Face GPT-2 directory holds config.json") }
        do {
            let config = try JSONDecoder().decode(GPT2Config.self, from: data)
            try config.validate()
            return config
        } catch let error as DecodingError {
            if let (key, value) = nonInteger(in: data) {
                throw ModelLoadError.invalidValue(key: key, value: value, expected: "an integer that fits in 64 bits")
            }
            throw ModelLoadError.invalidConfig("\(url.lastPathComponent): \(error.readableDescription)")
        }
    }

    /// The first integer key holding something else (2.5, 1e30). Foundation's JSONDecoder on Linux reports
    /// such a number as "not valid JSON" without saying where; this finds the key for the message.
    static func nonInteger(in data: Data) -> (key: String, value: String)? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        let keys: [CodingKeys] = [.layers, .heads, .width, .positions, .vocabularySize, .inner]
        for key in keys.map(\.rawValue) {
            guard let value = object[key], !(value is NSNull) else { continue }
            if value as? Int == nil { return (key, "\(value)") }
        }
        return nil
    }
}

extension DecodingError {
    var readableDescription: String {
        switch self {
        case .keyNotFound(let key, _): return "missing required key '\(key.stringValue)'"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "key '\(path)': \(context.debugDescription)"
        @unknown default: return "\(self)"
        }
    }
}
