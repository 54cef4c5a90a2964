// The decoder's parameter names (as GGUF files spell them, for every architecture of the family), shapes and
// pointer views. Which tensors exist follows the configuration's layer kinds. Matrices keep GGUF's [out, in]
// layout. Gemma's norm weights already include its `+ 1`. Dimensions: V, C, Q = H·D, K = G·D, F.
import Kernels

extension DecoderConfig {
    public var parameterLayout: ParameterLayout {
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
        let query, key, value: UnsafeMutablePointer<Float>                 // (Q, C), (K, C), (K, C)
        let queryBias, keyBias, valueBias: UnsafeMutablePointer<Float>?    // (Q), (K), (K)
        let queryNorm, keyNorm: UnsafeMutablePointer<Float>?               // (D)
        let attentionOutput: UnsafeMutablePointer<Float>                   // (C, Q)
        let postAttentionNorm: UnsafeMutablePointer<Float>?                // (C)
        let feedForwardNorm: UnsafeMutablePointer<Float>                   // (C)
        let gate, up: UnsafeMutablePointer<Float>                          // (F, C)
        let down: UnsafeMutablePointer<Float>                              // (C, F)
        let postFeedForwardNorm: UnsafeMutablePointer<Float>?              // (C)
    }

    let embedding: UnsafeMutablePointer<Float>  // (V, C), unscaled: a tied LM head reads it as stored
    let blocks: [Block]
    let outputNorm: UnsafeMutablePointer<Float>  // (C)
    /// The LM head (V, C): `embedding` itself when tied.
    let head: UnsafeMutablePointer<Float>

    init(config: DecoderConfig, layout: ParameterLayout, base: UnsafeMutablePointer<Float>) {
        let p = { (name: String) in layout.pointer(name, in: base) }
        let optional = { (name: String, present: Bool) in present ? layout.pointer(name, in: base) : nil }
        let c = config
        embedding = p("token_embd.weight")
        blocks = (0..<c.layers).map { l in
            let b = "blk.\(l)."
            return Block(
                attentionNorm: p(b + "attn_norm.weight"), query: p(b + "attn_q.weight"),
                key: p(b + "attn_k.weight"), value: p(b + "attn_v.weight"),
                queryBias: optional(b + "attn_q.bias", c.attentionBias), keyBias: optional(b + "attn_k.bias", c.attentionBias),
                valueBias: optional(b + "attn_v.bias", c.attentionBias),
                queryNorm: optional(b + "attn_q_norm.weight", c.queryKeyNorm),
                keyNorm: optional(b + "attn_k_norm.weight", c.queryKeyNorm),
                attentionOutput: p(b + "attn_output.weight"),
                postAttentionNorm: optional(b + "post_attention_norm.weight", c.sandwichNorms),
                feedForwardNorm: p(b + "ffn_norm.weight"), gate: p(b + "ffn_gate.weight"),
                up: p(b + "ffn_up.weight"), down: p(b + "ffn_down.weight"),
                postFeedForwardNorm: optional(b + "post_ffw_norm.weight", c.sandwichNorms))
        }
        outputNorm = p("output_norm.weight")
        head = c.tiedHead ? embedding : p("output.weight")
    }
}
