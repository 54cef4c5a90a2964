// The configuration of the rotary decoder family (Gemma 3, Llama, Qwen2): the sizes every such model has, and
// the layer kinds in which they differ. Each architecture's file in Architectures/ maps its own metadata onto
// this; the DecoderModel builds its blocks from it.
import WeightFiles

public struct DecoderConfig: Equatable, Sendable {
    /// Which family the file said it holds: names the GGUF keys in errors and the model in reports.
    public enum Architecture: String, Sendable {
        case gemma3, llama, qwen2

        public var displayName: String {
            switch self {
            case .gemma3: return "Gemma 3"
            case .llama: return "Llama"
            case .qwen2: return "Qwen2"
            }
        }
    }

    /// The gated feed-forward's activation: GeGLU (tanh GELU, Gemma) or SwiGLU (SiLU, Llama and Qwen2).
    public enum FeedForward: String, Sendable { case geglu, swiglu }

    public var architecture: Architecture
    public var layers: Int            // L
    public var width: Int             // C
    public var heads: Int             // H
    public var kvHeads: Int           // G
    public var headSize: Int          // D
    public var feedForwardWidth: Int  // F
    public var vocabularySize: Int    // V
    public var context: Int
    public var rmsNormEpsilon: Float

    public var feedForward: FeedForward
    /// Input embeddings are the embedding rows times √C (Gemma) instead of the rows as stored.
    public var scalesEmbeddings: Bool
    /// Per-head RMSNorm on queries and keys before RoPE (Gemma 3).
    public var queryKeyNorm: Bool
    /// RMSNorm on the attention and feed-forward outputs before each residual add (Gemma's "sandwich").
    public var sandwichNorms: Bool
    /// Biases on the query, key and value projections (Qwen2).
    public var attentionBias: Bool
    /// The LM head is the token embedding matrix; otherwise a tensor of its own (`output.weight`).
    public var tiedHead: Bool

    /// RoPE base of the global layers (every layer when there is no sliding window).
    public var globalRopeBase: Float
    /// RoPE base of the sliding-window layers.
    public var localRopeBase: Float
    /// transformers' "linear" rope scaling on the global layers: frequencies divided by this (1: none).
    public var ropeLinearScaling: Float = 1
    /// Keys a sliding-window layer sees; nil: every layer attends to the whole sequence.
    public var slidingWindow: Int?
    /// Every n-th layer attends globally; the others use the sliding window.
    public var slidingWindowPattern: Int
    /// transformers' query_pre_attn_scalar: queries are scaled by its inverse square root (D unless set).
    public var queryPreAttentionScalar: Float

    public init(architecture: Architecture, layers: Int, width: Int, heads: Int, kvHeads: Int, headSize: Int,
                feedForwardWidth: Int, vocabularySize: Int, context: Int, rmsNormEpsilon: Float,
                feedForward: FeedForward, scalesEmbeddings: Bool, queryKeyNorm: Bool, sandwichNorms: Bool,
                attentionBias: Bool, tiedHead: Bool, globalRopeBase: Float, localRopeBase: Float = 10_000,
                slidingWindow: Int? = nil, slidingWindowPattern: Int = 1) {
        self.architecture = architecture
        self.layers = layers; self.width = width; self.heads = heads; self.kvHeads = kvHeads
        self.headSize = headSize; self.feedForwardWidth = feedForwardWidth; self.vocabularySize = vocabularySize
        self.context = context; self.rmsNormEpsilon = rmsNormEpsilon
        self.feedForward = feedForward; self.scalesEmbeddings = scalesEmbeddings; self.queryKeyNorm = queryKeyNorm
        self.sandwichNorms = sandwichNorms; self.attentionBias = attentionBias; self.tiedHead = tiedHead
        self.globalRopeBase = globalRopeBase; self.localRopeBase = localRopeBase
        self.slidingWindow = slidingWindow; self.slidingWindowPattern = slidingWindowPattern
        self.queryPreAttentionScalar = Float(headSize)
    }

    /// The GGUF key for a value of this architecture ("gemma3.block_count").
    func key(_ suffix: String) -> String { "\(architecture.rawValue).\(suffix)" }

    /// Refuses a configuration this engine cannot run, before anything is sized, divided or indexed by it:
    /// every value within ModelLimits (so no size computed from them overflows), key/value heads dividing the
    /// query heads, an even head size for RoPE, a window of at least one key, and parameters that fit in memory.
    /// Errors name the GGUF key (or transformers' name for the values GGUF does not store).
    public func validate() throws {
        try ModelLimits.check(key("block_count"), layers, 1...ModelLimits.layers)
        try ModelLimits.check(key("embedding_length"), width, 1...ModelLimits.width)
        try ModelLimits.check(key("attention.head_count"), heads, 1...ModelLimits.heads)
        try ModelLimits.check(key("attention.head_count_kv"), kvHeads, 1...ModelLimits.heads)
        guard heads % kvHeads == 0 else {
            throw ModelLoadError.invalidValue(key: key("attention.head_count_kv"), value: "\(kvHeads)",
                                              expected: "a divisor of \(key("attention.head_count")) (\(heads))")
        }
        try ModelLimits.check(key("attention.key_length"), headSize, 1...ModelLimits.headSize)
        // Rotate-half RoPE pairs channel i with channel i + D/2.
        guard headSize % 2 == 0 else {
            throw ModelLoadError.invalidValue(key: key("attention.key_length"), value: "\(headSize)",
                                              expected: "an even number (rotary embeddings rotate pairs of channels)")
        }
        try ModelLimits.check(key("feed_forward_length"), feedForwardWidth, 1...ModelLimits.feedForwardWidth)
        try ModelLimits.check("tokenizer.ggml.tokens (count)", vocabularySize, 1...ModelLimits.vocabularySize)
        try ModelLimits.check(key("context_length"), context, 1...ModelLimits.context)
        // A window larger than the context is harmless (the layer attends globally); one below 1 sees no keys.
        if let slidingWindow { try ModelLimits.check(key("attention.sliding_window"), slidingWindow, 1...ModelLimits.context) }
        try ModelLimits.check("sliding_window_pattern", slidingWindowPattern, 1...ModelLimits.layers)
        try ModelLimits.checkNonNegative(key("attention.layer_norm_rms_epsilon"), rmsNormEpsilon)
        try ModelLimits.checkNonNegative(key("rope.freq_base"), globalRopeBase, orZero: false)
        try ModelLimits.checkNonNegative("rope_local_base_freq", localRopeBase, orZero: false)
        try ModelLimits.checkNonNegative(key("rope.scaling.factor"), ropeLinearScaling, orZero: false)
        try ModelLimits.checkNonNegative("query_pre_attn_scalar", queryPreAttentionScalar, orZero: false)
        try ModelLimits.checkMemory(
            parameterCount: parameterLayout.totalCount,
            model: "\(architecture.displayName) with \(key("block_count")) \(layers), \(key("embedding_length")) \(width), "
                + "\(key("feed_forward_length")) \(feedForwardWidth), \(vocabularySize) tokens")
    }

    public func isGlobal(layer l: Int) -> Bool { slidingWindow == nil || (l + 1) % slidingWindowPattern == 0 }

    /// Input embeddings are the embedding rows times this: √C rounded to float32 as transformers does, or 1.
    public var embeddingScale: Float { scalesEmbeddings ? Float(width).squareRoot() : 1 }
}
