// Llama and Qwen2 (the family most small open models use: Llama 2/3, SmolLM, Qwen2/2.5) as configurations of
// DecoderModel: RMSNorm pre-norm blocks, rotate-half RoPE, grouped-query attention, SwiGLU, unscaled embeddings;
// Qwen2 adds biases on the query, key and value projections; the head is tied or untied as the file says.
// Read from GGUF metadata (`llama.*` / `qwen2.*` keys, as llama.cpp's converter writes them).
//
// Tensors: DecoderModel's GGUF names. llama.cpp stores Llama's attn_q/attn_k rows permuted for its interleaved
// RoPE (convert_hf_to_gguf's `permute`): within each head, row 2i + j of the file is row j·D/2 + i of the
// checkpoint. The loader undoes it, so the rotate-half RoPE applies as in transformers. Qwen2 files are written
// unpermuted (llama.cpp runs them with NEOX RoPE, which is rotate-half).
import WeightFiles

extension DecoderConfig {
    /// A Llama-family configuration: no sliding window, SwiGLU, unscaled embeddings.
    public static func llama(_ architecture: Architecture = .llama, layers: Int, width: Int, heads: Int, kvHeads: Int,
                             headSize: Int, feedForwardWidth: Int, vocabularySize: Int, context: Int,
                             normEpsilon: Float = 1e-6, ropeBase: Float = 10_000, attentionBias: Bool = false,
                             tiedHead: Bool = true) -> DecoderConfig {
        DecoderConfig(architecture: architecture, layers: layers, width: width, heads: heads, kvHeads: kvHeads,
                      headSize: headSize, feedForwardWidth: feedForwardWidth, vocabularySize: vocabularySize,
                      context: context, normEpsilon: normEpsilon, feedForward: .swiglu, scalesEmbeddings: false,
                      queryKeyNorm: false, sandwichNorms: false, attentionBias: attentionBias, tiedHead: tiedHead,
                      globalRopeBase: ropeBase)
    }

    init(llama gguf: GGUFFile, architecture: Architecture) throws {
        let m = gguf.metadata, a = architecture.rawValue
        let heads = try m.int("\(a).attention.head_count"), width = try m.int("\(a).embedding_length")
        // Checked here because the head size defaults to C / H.
        try ModelLimits.check("\(a).attention.head_count", heads, 1...ModelLimits.heads)
        let headSize = m.contains("\(a).attention.key_length") ? try m.int("\(a).attention.key_length") : width / heads
        if m.contains("\(a).attention.value_length"), try m.int("\(a).attention.value_length") != headSize {
            throw ModelLoadError.invalidValue(key: "\(a).attention.value_length", value: "\(try m.int("\(a).attention.value_length"))",
                                              expected: "the key length (\(headSize))")
        }
        if m.contains("\(a).rope.dimension_count"), try m.int("\(a).rope.dimension_count") != headSize {
            throw ModelLoadError.invalidValue(key: "\(a).rope.dimension_count", value: "\(try m.int("\(a).rope.dimension_count"))",
                                              expected: "the head size (\(headSize)); partial rotary embeddings are not implemented")
        }
        if m.contains("\(a).expert_count"), try m.int("\(a).expert_count") > 0 {
            throw ModelLoadError.invalidValue(key: "\(a).expert_count", value: "\(try m.int("\(a).expert_count"))",
                                              expected: "0 (mixture-of-experts models are not implemented)")
        }
        if m.contains("\(a).attention.sliding_window") {
            throw ModelLoadError.invalidValue(key: "\(a).attention.sliding_window", value: "\(try m.value("\(a).attention.sliding_window"))",
                                              expected: "absent (sliding-window attention is implemented for Gemma 3 only)")
        }
        self = .llama(
            architecture, layers: try m.int("\(a).block_count"), width: width, heads: heads,
            kvHeads: m.contains("\(a).attention.head_count_kv") ? try m.int("\(a).attention.head_count_kv") : heads,
            headSize: headSize, feedForwardWidth: try m.int("\(a).feed_forward_length"),
            vocabularySize: try m.stringArray("tokenizer.ggml.tokens").count, context: try m.int("\(a).context_length"),
            normEpsilon: try m.float("\(a).attention.layer_norm_rms_epsilon"),
            ropeBase: m.contains("\(a).rope.freq_base") ? try m.float("\(a).rope.freq_base") : 10_000,
            attentionBias: gguf.tensorInfo("blk.0.attn_q.bias") != nil,
            tiedHead: gguf.tensorInfo("output.weight") == nil)
        ropeLinearScaling = try Self.ropeScaling(m, architecture: architecture)
    }
}

/// Undoes llama.cpp's permutation of a Llama query or key projection in place: `rows` (heads · D rows of
/// `columns`, or one bias row when columns is 1) from the file's interleaved order to rotate-half order.
func unpermuteRotaryRows(_ p: UnsafeMutablePointer<Float>, heads: Int, headSize D: Int, columns: Int) {
    let half = D / 2
    let file = Array(UnsafeBufferPointer(start: p, count: heads * D * columns))
    file.withUnsafeBufferPointer { source in
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 {
                    let from = (h * D + 2 * i + j) * columns, to = (h * D + j * half + i) * columns
                    (p + to).update(from: source.baseAddress! + from, count: columns)
                }
            }
        }
    }
}
