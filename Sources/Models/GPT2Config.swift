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

    public func validate() throws {
        let problems = [
            layers > 0 ? nil : "n_layer must be positive",
            heads > 0 && width > 0 && width % heads == 0 ? nil : "n_embd (\(width)) must be a positive multiple of n_head (\(heads))",
            positions > 0 ? nil : "n_positions must be positive",
            vocabularySize > 0 ? nil : "vocab_size must be positive",
            ["gelu_new", "gelu_pytorch_tanh", "gelu_fast"].contains(activation)
                ? nil : "activation_function '\(activation)' is not supported (GPT-2 uses gelu_new)",
            inner == nil || inner == 4 * width ? nil : "n_inner other than 4·n_embd is not supported",
            scaleAttentionWeights ? nil : "scale_attn_weights = false is not supported",
            !scaleAttentionByInverseLayerIndex ? nil : "scale_attn_by_inverse_layer_idx = true is not supported",
        ].compactMap { $0 }
        if let problem = problems.first { throw ModelLoadError.invalidConfig(problem) }
    }

    public static func load(from url: URL) throws -> GPT2Config {
        guard let data = try? Data(contentsOf: url) else { throw ModelLoadError.missingFile(url.path, hint: "a Hugging Face GPT-2 directory holds config.json") }
        do {
            let config = try JSONDecoder().decode(GPT2Config.self, from: data)
            try config.validate()
            return config
        } catch let error as DecodingError {
            throw ModelLoadError.invalidConfig("\(url.lastPathComponent): \(error.readableDescription)")
        }
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
