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
            let valueLength = try m.int("gemma3.attention.value_length")
            guard valueLength == keyLength else {
                throw ModelLoadError.invalidValue(key: "gemma3.attention.value_length", value: "\(valueLength)",
                                                  expected: "gemma3.attention.key_length (\(keyLength))")
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
        try validate()
    }

    /// Refuses a configuration this engine cannot run, before anything is sized, divided or indexed by it:
    /// every value within ModelLimits (so no size computed from them overflows), key/value heads dividing the
    /// query heads, an even head size for RoPE, a window of at least one key, and parameters that fit in memory.
    /// Errors name the GGUF key (or transformers' name for the values GGUF does not store).
    public func validate() throws {
        try ModelLimits.check("gemma3.block_count", layers, 1...ModelLimits.layers)
        try ModelLimits.check("gemma3.embedding_length", width, 1...ModelLimits.width)
        try ModelLimits.check("gemma3.attention.head_count", heads, 1...ModelLimits.heads)
        try ModelLimits.check("gemma3.attention.head_count_kv", kvHeads, 1...ModelLimits.heads)
        guard heads % kvHeads == 0 else {
            throw ModelLoadError.invalidValue(key: "gemma3.attention.head_count_kv", value: "\(kvHeads)",
                                              expected: "a divisor of gemma3.attention.head_count (\(heads))")
        }
        try ModelLimits.check("gemma3.attention.key_length", headSize, 1...ModelLimits.headSize)
        // Rotate-half RoPE pairs channel i with channel i + D/2.
        guard headSize % 2 == 0 else {
            throw ModelLoadError.invalidValue(key: "gemma3.attention.key_length", value: "\(headSize)",
                                              expected: "an even number (rotary embeddings rotate pairs of channels)")
        }
        try ModelLimits.check("gemma3.feed_forward_length", feedForwardWidth, 1...ModelLimits.feedForwardWidth)
        try ModelLimits.check("tokenizer.ggml.tokens (count)", vocabularySize, 1...ModelLimits.vocabularySize)
        try ModelLimits.check("gemma3.context_length", context, 1...ModelLimits.context)
        // A window larger than the context is harmless (the layer attends globally); one below 1 sees no keys.
        try ModelLimits.check("gemma3.attention.sliding_window", slidingWindow, 1...ModelLimits.context)
        try ModelLimits.check("sliding_window_pattern", slidingWindowPattern, 1...ModelLimits.layers)
        try ModelLimits.checkNonNegative("gemma3.attention.layer_norm_rms_epsilon", rmsNormEpsilon)
        try ModelLimits.checkNonNegative("gemma3.rope.freq_base", globalRopeBase, orZero: false)
        try ModelLimits.checkNonNegative("rope_local_base_freq", localRopeBase, orZero: false)
        try ModelLimits.checkNonNegative("query_pre_attn_scalar", queryPreAttentionScalar, orZero: false)
        try ModelLimits.checkMemory(
            parameterCount: parameterLayout.totalCount,
            model: "Gemma 3 with gemma3.block_count \(layers), gemma3.embedding_length \(width), "
                + "gemma3.feed_forward_length \(feedForwardWidth), \(vocabularySize) tokens")
    }

    public func isGlobal(layer l: Int) -> Bool { (l + 1) % slidingWindowPattern == 0 }

    /// Input embeddings are the embedding rows times √C, rounded to float32 as transformers does.
    public var embeddingScale: Float { Float(width).squareRoot() }
}
