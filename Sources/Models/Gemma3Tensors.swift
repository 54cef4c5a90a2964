// Gemma 3's parameter names (as the GGUF file spells them), shapes and pointer views. Matrices keep GGUF's
// [out, in] layout. Norm weights already include Gemma's `+ 1`. Dimensions: V, C, H·D, G·D, F.
import Kernels

extension Gemma3Config {
    public var parameterLayout: ParameterLayout {
        let (C, Q, K, F, D) = (width, heads * headSize, kvHeads * headSize, feedForwardWidth, headSize)
        var layout = ParameterLayout()
        layout.add("token_embd.weight", [vocabularySize, C])
        for l in 0..<layers {
            layout.add("blk.\(l).attn_norm.weight", [C])
            layout.add("blk.\(l).attn_q.weight", [Q, C])
            layout.add("blk.\(l).attn_k.weight", [K, C])
            layout.add("blk.\(l).attn_v.weight", [K, C])
            layout.add("blk.\(l).attn_q_norm.weight", [D])
            layout.add("blk.\(l).attn_k_norm.weight", [D])
            layout.add("blk.\(l).attn_output.weight", [C, Q])
            layout.add("blk.\(l).post_attention_norm.weight", [C])
            layout.add("blk.\(l).ffn_norm.weight", [C])
            layout.add("blk.\(l).ffn_gate.weight", [F, C])
            layout.add("blk.\(l).ffn_up.weight", [F, C])
            layout.add("blk.\(l).ffn_down.weight", [C, F])
            layout.add("blk.\(l).post_ffw_norm.weight", [C])
        }
        layout.add("output_norm.weight", [C])
        return layout
    }
}

struct Gemma3Tensors {
    struct Block {
        let attentionNorm: UnsafeMutablePointer<Float>         // (C)
        let query, key, value: UnsafeMutablePointer<Float>     // (H·D, C), (G·D, C), (G·D, C)
        let queryNorm, keyNorm: UnsafeMutablePointer<Float>    // (D)
        let attentionOutput: UnsafeMutablePointer<Float>       // (C, H·D)
        let postAttentionNorm: UnsafeMutablePointer<Float>     // (C)
        let feedForwardNorm: UnsafeMutablePointer<Float>       // (C)
        let gate, up: UnsafeMutablePointer<Float>              // (F, C)
        let down: UnsafeMutablePointer<Float>                  // (C, F)
        let postFeedForwardNorm: UnsafeMutablePointer<Float>   // (C)
    }

    let embedding: UnsafeMutablePointer<Float>  // (V, C), unscaled: the tied LM head reads it as stored
    let blocks: [Block]
    let outputNorm: UnsafeMutablePointer<Float>  // (C)

    init(layout: ParameterLayout, layers: Int, base: UnsafeMutablePointer<Float>) {
        let p = { (name: String) in layout.pointer(name, in: base) }
        embedding = p("token_embd.weight")
        blocks = (0..<layers).map { l in
            Block(
                attentionNorm: p("blk.\(l).attn_norm.weight"), query: p("blk.\(l).attn_q.weight"),
                key: p("blk.\(l).attn_k.weight"), value: p("blk.\(l).attn_v.weight"),
                queryNorm: p("blk.\(l).attn_q_norm.weight"), keyNorm: p("blk.\(l).attn_k_norm.weight"),
                attentionOutput: p("blk.\(l).attn_output.weight"),
                postAttentionNorm: p("blk.\(l).post_attention_norm.weight"),
                feedForwardNorm: p("blk.\(l).ffn_norm.weight"), gate: p("blk.\(l).ffn_gate.weight"),
                up: p("blk.\(l).ffn_up.weight"), down: p("blk.\(l).ffn_down.weight"),
                postFeedForwardNorm: p("blk.\(l).post_ffw_norm.weight"))
        }
        outputNorm = p("output_norm.weight")
    }
}
