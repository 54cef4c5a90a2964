// Gemma 3 (Gemma Team 2025) as a configuration of DecoderModel: scaled token embeddings, sandwich norms around
// attention and feed-forward, per-head query/key RMSNorm, GeGLU, a tied head, and sliding-window layers with
// their own RoPE base (every sixth layer global). Read from GGUF metadata (`gemma3.*` keys); what the GGUF does
// not store — the layer pattern, the local RoPE base, the query scale — takes transformers' Gemma3TextConfig
// defaults, which the parity fixtures confirm for Gemma 3 270M. Tensors: DecoderModel's GGUF names.
import WeightFiles

extension DecoderConfig {
    /// Gemma 3 with transformers' defaults for what its GGUF files leave out.
    public static func gemma3(layers: Int, width: Int, heads: Int, kvHeads: Int, headSize: Int, feedForwardWidth: Int,
                              vocabularySize: Int, context: Int, normEpsilon: Float = 1e-6,
                              globalRopeBase: Float = 1_000_000, slidingWindow: Int = 512) -> DecoderConfig {
        DecoderConfig(architecture: .gemma3, layers: layers, width: width, heads: heads, kvHeads: kvHeads,
                      headSize: headSize, feedForwardWidth: feedForwardWidth, vocabularySize: vocabularySize,
                      context: context, normEpsilon: normEpsilon, feedForward: .geglu, scalesEmbeddings: true,
                      queryKeyNorm: true, sandwichNorms: true, attentionBias: false, tiedHead: true,
                      globalRopeBase: globalRopeBase, localRopeBase: 10_000, slidingWindow: slidingWindow,
                      slidingWindowPattern: 6)
    }

    init(gemma3 gguf: GGUFFile) throws {
        let m = gguf.metadata
        let keyLength = try m.int("gemma3.attention.key_length")
        let valueLength = try m.int("gemma3.attention.value_length")
        guard valueLength == keyLength else {
            throw ModelLoadError.invalidValue(key: "gemma3.attention.value_length", value: "\(valueLength)",
                                              expected: "gemma3.attention.key_length (\(keyLength))")
        }
        self = .gemma3(
            layers: try m.int("gemma3.block_count"), width: try m.int("gemma3.embedding_length"),
            heads: try m.int("gemma3.attention.head_count"), kvHeads: try m.int("gemma3.attention.head_count_kv"),
            headSize: keyLength, feedForwardWidth: try m.int("gemma3.feed_forward_length"),
            vocabularySize: try m.stringArray("tokenizer.ggml.tokens").count,
            context: try m.int("gemma3.context_length"),
            normEpsilon: try m.float("gemma3.attention.layer_norm_rms_epsilon"),
            globalRopeBase: m.contains("gemma3.rope.freq_base") ? try m.float("gemma3.rope.freq_base") : 1_000_000,
            slidingWindow: try m.int("gemma3.attention.sliding_window"))
        // transformers applies Gemma 3's rope scaling to the global layers only.
        ropeLinearScaling = try Self.ropeScaling(m, architecture: .gemma3)
    }

    /// The linear RoPE scaling factor in `ARCH.rope.scaling.*` (1 when absent). Any other scaling type is refused:
    /// running it unscaled would silently give other logits.
    static func ropeScaling(_ m: GGUFMetadata, architecture: Architecture) throws -> Float {
        let typeKey = "\(architecture.rawValue).rope.scaling.type", factorKey = "\(architecture.rawValue).rope.scaling.factor"
        let type = m.contains(typeKey) ? try m.string(typeKey) : "none"
        switch type {
        case "none": return 1
        case "linear": return m.contains(factorKey) ? try m.float(factorKey) : 1
        default:
            throw ModelLoadError.invalidValue(key: typeKey, value: type, expected: "none or linear (the RoPE scalings Legible implements)")
        }
    }
}
