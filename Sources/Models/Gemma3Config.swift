// Gemma 3's text configuration, read from GGUF metadata (`gemma3.*` keys). What the GGUF does not store —
// the local/global layer pattern, the local RoPE base, the query scale — takes transformers' Gemma3TextConfig
// defaults, which the parity fixtures confirm for Gemma 3 270M.
import WeightFiles

public struct Gemma3Config: Equatable, Sendable {
    public var layers: Int            // L
    public var width: Int             // C
    public var heads: Int             // H
    public var kvHeads: Int           // G
    public var headSize: Int          // D
    public var feedForwardWidth: Int  // F
    public var vocabularySize: Int    // V
    public var context: Int
    public var rmsNormEpsilon: Float
    public var globalRopeBase: Float
    public var localRopeBase: Float = 10_000
    public var slidingWindow: Int
    /// Every n-th layer attends globally; the others use the sliding window.
    public var slidingWindowPattern = 6
    /// transformers' query_pre_attn_scalar: queries are scaled by its inverse square root.
    public var queryPreAttentionScalar: Float

    public init(layers: Int, width: Int, heads: Int, kvHeads: Int, headSize: Int, feedForwardWidth: Int,
                vocabularySize: Int, context: Int, rmsNormEpsilon: Float = 1e-6, globalRopeBase: Float = 1_000_000,
                slidingWindow: Int = 512) {
        self.layers = layers; self.width = width; self.heads = heads; self.kvHeads = kvHeads
        self.headSize = headSize; self.feedForwardWidth = feedForwardWidth; self.vocabularySize = vocabularySize
        self.context = context; self.rmsNormEpsilon = rmsNormEpsilon; self.globalRopeBase = globalRopeBase
        self.slidingWindow = slidingWindow; self.queryPreAttentionScalar = Float(headSize)
    }

    public init(gguf: GGUFFile) throws {
        let m = gguf.metadata
        let architecture = try m.string("general.architecture")
        guard architecture == "gemma3" else {
            throw ModelLoadError.invalidConfig("\(gguf.path) holds a '\(architecture)' model; Legible reads GGUF files of Gemma 3 ('gemma3')")
        }
        do {
            let keyLength = try m.int("gemma3.attention.key_length")
            guard try m.int("gemma3.attention.value_length") == keyLength else {
                throw ModelLoadError.invalidConfig("key and value head sizes differ")
            }
            self.init(
                layers: try m.int("gemma3.block_count"), width: try m.int("gemma3.embedding_length"),
                heads: try m.int("gemma3.attention.head_count"), kvHeads: try m.int("gemma3.attention.head_count_kv"),
                headSize: keyLength, feedForwardWidth: try m.int("gemma3.feed_forward_length"),
                vocabularySize: try m.stringArray("tokenizer.ggml.tokens").count,
                context: try m.int("gemma3.context_length"),
                rmsNormEpsilon: try m.float("gemma3.attention.layer_norm_rms_epsilon"),
                globalRopeBase: m.contains("gemma3.rope.freq_base") ? try m.float("gemma3.rope.freq_base") : 1_000_000,
                slidingWindow: try m.int("gemma3.attention.sliding_window"))
        } catch let error as GGUFError {
            throw ModelLoadError.invalidConfig("\(error)")
        }
        if heads % kvHeads != 0 { throw ModelLoadError.invalidConfig("head_count \(heads) is not a multiple of head_count_kv \(kvHeads)") }
    }

    public func isGlobal(layer l: Int) -> Bool { (l + 1) % slidingWindowPattern == 0 }

    /// Input embeddings are the embedding rows times √C, rounded to float32 as transformers does.
    public var embeddingScale: Float { Float(width).squareRoot() }
}
