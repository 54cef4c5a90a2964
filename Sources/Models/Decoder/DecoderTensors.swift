// The decoder's parameter names, shapes and pointer views. The rotary family uses the names GGUF files spell (and
// keeps their [out, in] matrices; Gemma's norm weights already include its `+ 1`); GPT-2 keeps its Hugging Face
// names and Conv1D [in, out] matrices (Architectures/GPT2.swift). Which tensors exist follows the configuration's
// layer kinds. Dimensions: V, C, Q = H·D, K = G·D, F.
import Kernels

extension DecoderConfig {
    public var parameterLayout: ParameterLayout {
        if architecture == .gpt2 { return gpt2ParameterLayout }
        let (C, Q, K, F, D) = (width, heads * headSize, kvHeads * headSize, feedForwardWidth, headSize)
        var layout = ParameterLayout()
        layout.add("token_embd.weight", [vocabularySize, C])
        for l in 0..<layers {
            let b = "blk.\(l)."
            layout.add(b + "attn_norm.weight", [C])
            layout.add(b + "attn_q.weight", [Q, C])
            layout.add(b + "attn_k.weight", [K, C])
            layout.add(b + "attn_v.weight", [K, C])
            if attentionBias {
                layout.add(b + "attn_q.bias", [Q])
                layout.add(b + "attn_k.bias", [K])
                layout.add(b + "attn_v.bias", [K])
            }
            if queryKeyNorm {
                layout.add(b + "attn_q_norm.weight", [D])
                layout.add(b + "attn_k_norm.weight", [D])
            }
            layout.add(b + "attn_output.weight", [C, Q])
            if sandwichNorms { layout.add(b + "post_attention_norm.weight", [C]) }
            layout.add(b + "ffn_norm.weight", [C])
            layout.add(b + "ffn_gate.weight", [F, C])
            layout.add(b + "ffn_up.weight", [F, C])
            layout.add(b + "ffn_down.weight", [C, F])
            if sandwichNorms { layout.add(b + "post_ffw_norm.weight", [C]) }
        }
        layout.add("output_norm.weight", [C])
        if !tiedHead { layout.add("output.weight", [vocabularySize, C]) }
        return layout
    }
}

/// Pointers to each tensor inside one allocation (weights or their gradients); nil where the configuration
/// has no such tensor.
struct DecoderTensors {
    struct Block {
        let attentionNorm: UnsafeMutablePointer<Float>                     // (C)
        let attentionNormBias: UnsafeMutablePointer<Float>?                // (C): LayerNorm only
        /// (Q, C); with fused Conv1D projections, the whole (C, Q + 2K) query-key-value matrix, and key and value nil.
        let query: UnsafeMutablePointer<Float>
        let key, value: UnsafeMutablePointer<Float>?                       // (K, C)
        /// (Q) or, fused, (Q + 2K); key and value biases nil when fused.
        let queryBias, keyBias, valueBias: UnsafeMutablePointer<Float>?
        let queryNorm, keyNorm: UnsafeMutablePointer<Float>?               // (D)
        let attentionOutput: UnsafeMutablePointer<Float>                   // (C, Q) or Conv1D (Q, C)
        let attentionOutputBias: UnsafeMutablePointer<Float>?              // (C)
        let postAttentionNorm: UnsafeMutablePointer<Float>?                // (C)
        let feedForwardNorm: UnsafeMutablePointer<Float>                   // (C)
        let feedForwardNormBias: UnsafeMutablePointer<Float>?              // (C)
        /// The gate (F, C); for the plain MLP, its first layer (Conv1D (C, F)) and `up` nil.
        let gate: UnsafeMutablePointer<Float>
        let up: UnsafeMutablePointer<Float>?                               // (F, C)
        let gateBias: UnsafeMutablePointer<Float>?                         // (F)
        let down: UnsafeMutablePointer<Float>                              // (C, F) or Conv1D (F, C)
        let downBias: UnsafeMutablePointer<Float>?                         // (C)
        let postFeedForwardNorm: UnsafeMutablePointer<Float>?              // (C)
    }

    let embedding: UnsafeMutablePointer<Float>  // (V, C), unscaled: a tied LM head reads it as stored
    let positionEmbedding: UnsafeMutablePointer<Float>?  // (context, C): learned positions only
    let blocks: [Block]
    let outputNorm: UnsafeMutablePointer<Float>  // (C)
    let outputNormBias: UnsafeMutablePointer<Float>?  // (C)
    /// The LM head (V, C): `embedding` itself when tied.
    let head: UnsafeMutablePointer<Float>

    init(config: DecoderConfig, layout: ParameterLayout, base: UnsafeMutablePointer<Float>) {
        self = config.architecture == .gpt2
            ? DecoderTensors(gpt2: config, layout: layout, base: base) : DecoderTensors(ggufNames: config, layout: layout, base: base)
    }

    /// The rotary family's tensors by their GGUF names.
    private init(ggufNames c: DecoderConfig, layout: ParameterLayout, base: UnsafeMutablePointer<Float>) {
        let p = { (name: String) in layout.pointer(name, in: base) }
        let optional = { (name: String, present: Bool) in present ? layout.pointer(name, in: base) : nil }
        let blocks = (0..<c.layers).map { l in
            let b = "blk.\(l)."
            return Block(
                attentionNorm: p(b + "attn_norm.weight"), attentionNormBias: nil, query: p(b + "attn_q.weight"),
                key: p(b + "attn_k.weight"), value: p(b + "attn_v.weight"),
                queryBias: optional(b + "attn_q.bias", c.attentionBias), keyBias: optional(b + "attn_k.bias", c.attentionBias),
                valueBias: optional(b + "attn_v.bias", c.attentionBias),
                queryNorm: optional(b + "attn_q_norm.weight", c.queryKeyNorm),
                keyNorm: optional(b + "attn_k_norm.weight", c.queryKeyNorm),
                attentionOutput: p(b + "attn_output.weight"), attentionOutputBias: nil,
                postAttentionNorm: optional(b + "post_attention_norm.weight", c.sandwichNorms),
                feedForwardNorm: p(b + "ffn_norm.weight"), feedForwardNormBias: nil, gate: p(b + "ffn_gate.weight"),
                up: p(b + "ffn_up.weight"), gateBias: nil, down: p(b + "ffn_down.weight"), downBias: nil,
                postFeedForwardNorm: optional(b + "post_ffw_norm.weight", c.sandwichNorms))
        }
        let embedding = p("token_embd.weight")
        self.init(embedding: embedding, positionEmbedding: nil, blocks: blocks, outputNorm: p("output_norm.weight"),
                  outputNormBias: nil, head: c.tiedHead ? embedding : p("output.weight"))
    }

    init(embedding: UnsafeMutablePointer<Float>, positionEmbedding: UnsafeMutablePointer<Float>?, blocks: [Block],
         outputNorm: UnsafeMutablePointer<Float>, outputNormBias: UnsafeMutablePointer<Float>?, head: UnsafeMutablePointer<Float>) {
        self.embedding = embedding; self.positionEmbedding = positionEmbedding; self.blocks = blocks
        self.outputNorm = outputNorm; self.outputNormBias = outputNormBias; self.head = head
    }
}
