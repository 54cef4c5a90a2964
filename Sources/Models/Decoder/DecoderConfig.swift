// The configuration of the rotary decoder family (Gemma 3, Llama, Qwen2): the sizes every such model has, and
// the layer kinds in which they differ. Each architecture's file in Architectures/ maps its own metadata onto
// this; the DecoderModel builds its blocks from it.
import Kernels
import WeightFiles

public struct DecoderConfig: Equatable, Sendable {
    /// Which family the file said it holds: names the GGUF keys in errors and the model in reports.
    public enum Architecture: String, Sendable {
        case gpt2, gemma3, llama, qwen2

        public var displayName: String {
            switch self {
            case .gpt2: return "GPT-2"
            case .gemma3: return "Gemma 3"
            case .llama: return "Llama"
            case .qwen2: return "Qwen2"
            }
        }
    }

    /// The feed-forward: gated, GeGLU (tanh GELU, Gemma) or SwiGLU (SiLU, Llama and Qwen2), or GPT-2's plain
    /// two-layer MLP with a tanh GELU between.
    public enum FeedForward: String, Sendable { case geglu, swiglu, gelu }
    /// RMSNorm (Gemma, Llama) or LayerNorm with a bias (GPT-2).
    public enum Normalization: String, Sendable { case rms, layer }
    /// How positions enter: rotary embeddings on queries and keys, or learned vectors added to the inputs (GPT-2).
    public enum Positions: String, Sendable { case rotary, learned }

    public var architecture: Architecture
    public var layers: Int            // L
    public var width: Int             // C
    public var heads: Int             // H
    public var kvHeads: Int           // G
    public var headSize: Int          // D
    public var feedForwardWidth: Int  // F
    public var vocabularySize: Int    // V
    public var context: Int
    public var normEpsilon: Float

    public var normalization: Normalization = .rms
    public var positions: Positions = .rotary
    /// GPT-2's Conv1D projections: one fused query-key-value matrix, every matrix stored (in, out), and a bias on
    /// every projection. Otherwise separate q, k, v matrices stored (out, in), biases as `attentionBias` says.
    public var conv1DProjections = false
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
                feedForwardWidth: Int, vocabularySize: Int, context: Int, normEpsilon: Float,
                feedForward: FeedForward, scalesEmbeddings: Bool, queryKeyNorm: Bool, sandwichNorms: Bool,
                attentionBias: Bool, tiedHead: Bool, globalRopeBase: Float, localRopeBase: Float = 10_000,
                slidingWindow: Int? = nil, slidingWindowPattern: Int = 1) {
        self.architecture = architecture
        self.layers = layers; self.width = width; self.heads = heads; self.kvHeads = kvHeads
        self.headSize = headSize; self.feedForwardWidth = feedForwardWidth; self.vocabularySize = vocabularySize
        self.context = context; self.normEpsilon = normEpsilon
        self.feedForward = feedForward; self.scalesEmbeddings = scalesEmbeddings; self.queryKeyNorm = queryKeyNorm
        self.sandwichNorms = sandwichNorms; self.attentionBias = attentionBias; self.tiedHead = tiedHead
        self.globalRopeBase = globalRopeBase; self.localRopeBase = localRopeBase
        self.slidingWindow = slidingWindow; self.slidingWindowPattern = slidingWindowPattern
        self.queryPreAttentionScalar = Float(headSize)
    }

    /// The GGUF key for a value of this architecture ("gemma3.block_count").
    func key(_ suffix: String) -> String { "\(architecture.rawValue).\(suffix)" }

    /// How every projection matrix is stored.
    public var weightLayout: WeightLayout { conv1DProjections ? .inputMajor : .outputMajor }

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
        guard headSize % 2 == 0 || positions == .learned else {
            throw ModelLoadError.invalidValue(key: key("attention.key_length"), value: "\(headSize)",
                                              expected: "an even number (rotary embeddings rotate pairs of channels)")
        }
        try ModelLimits.check(key("feed_forward_length"), feedForwardWidth, 1...ModelLimits.feedForwardWidth)
        try ModelLimits.check("tokenizer.ggml.tokens (count)", vocabularySize, 1...ModelLimits.vocabularySize)
        try ModelLimits.check(key("context_length"), context, 1...ModelLimits.context)
        // A window larger than the context is harmless (the layer attends globally); one below 1 sees no keys.
        if let slidingWindow { try ModelLimits.check(key("attention.sliding_window"), slidingWindow, 1...ModelLimits.context) }
        try ModelLimits.check("sliding_window_pattern", slidingWindowPattern, 1...ModelLimits.layers)
        try ModelLimits.checkNonNegative(key("attention.layer_norm_rms_epsilon"), normEpsilon)
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
