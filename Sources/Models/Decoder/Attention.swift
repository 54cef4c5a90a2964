// The attention sub-block of a decoder layer: query, key and value projections (separate, with optional biases, or
// GPT-2's fused Conv1D one), per-head query/key RMSNorm (Gemma 3), rotate-half RoPE (unless positions are learned),
// grouped-query attention over the layer's window, and the output projection. The attention core between the
// projections is the caller's: full attention over a packed batch in training, cached keys in continuations.
// Dimensions: N tokens, C channels, H/G query/key-value heads, D head size, Q = H·D, K = G·D.
import Kernels

struct Attention {
    let config: DecoderConfig
    let weights: DecoderTensors.Block
    let rope: RotaryTable
    let shape: AttentionShape
    let products: FrozenProducts
    var Q: Int { config.heads * config.headSize }
    var K: Int { config.kvHeads * config.headSize }

    /// Where attention reads the queries, keys and values of `project`: views into the fused projection, or the
    /// rotated queries and keys and the values.
    func queryKeyValue(_ s: DecoderActivations.Layer) -> (q: HeadMatrix, k: HeadMatrix, v: HeadMatrix) {
        if config.conv1DProjections {
            let qkv = s.qkv.pointer, stride = Q + 2 * K
            return (HeadMatrix(qkv, stride: stride), HeadMatrix(qkv + Q, stride: stride), HeadMatrix(qkv + Q + K, stride: stride))
        }
        return (HeadMatrix(s.rotatedQuery.pointer, stride: Q), HeadMatrix(s.rotatedKey.pointer, stride: K), HeadMatrix(s.value.pointer, stride: K))
    }

    /// q (N, Q), k and v (N, K) from the normed input x (N, C), with their biases, per-head norms and RoPE.
    func project(x: UnsafePointer<Float>, s: DecoderActivations.Layer, positions: UnsafePointer<Int32>, N: Int) {
        let c = config, w = weights
        let (C, H, G, D) = (c.width, c.heads, c.kvHeads, c.headSize)
        if c.conv1DProjections {
            products.linearForward(out: s.qkv.pointer, inp: x, weight: w.query, bias: w.queryBias, layout: .inputMajor, N: N, I: C, O: Q + 2 * K)
            return
        }
        // Without per-head norms the projections land where RoPE rotates them in place.
        let (query, key) = c.queryKeyNorm ? (s.query.pointer, s.key.pointer) : (s.rotatedQuery.pointer, s.rotatedKey.pointer)
        products.linearForward(out: query, inp: x, weight: w.query, bias: w.queryBias, layout: .outputMajor, N: N, I: C, O: Q)
        products.linearForward(out: key, inp: x, weight: w.key!, bias: w.keyBias, layout: .outputMajor, N: N, I: C, O: K)
        products.linearForward(out: s.value.pointer, inp: x, weight: w.value!, bias: w.valueBias, layout: .outputMajor, N: N, I: C, O: K)
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            rmsNormForward(out: s.rotatedQuery.pointer, rstd: s.queryRstd.pointer, inp: query, weight: queryNorm, N: N * H, C: D, eps: c.normEpsilon)
            rmsNormForward(out: s.rotatedKey.pointer, rstd: s.keyRstd.pointer, inp: key, weight: keyNorm, N: N * G, C: D, eps: c.normEpsilon)
        }
        if c.positions == .rotary {
            ropeForward(s.rotatedQuery.pointer, positions: positions, table: rope, N: N, heads: H)
            ropeForward(s.rotatedKey.pointer, positions: positions, table: rope, N: N, heads: G)
        }
    }

    /// Full attention over the packed batch, into s.attention (N, Q).
    func attend(s: DecoderActivations.Layer, batch: RaggedBatch) {
        let (q, k, v) = queryKeyValue(s)
        attentionForward(out: HeadMatrix(s.attention.pointer, stride: Q), probs: s.probabilities.pointer,
                         q: q, k: k, v: v, batch: batch, shape: shape)
    }

    /// out (N, C) = the output projection of s.attention.
    func projectOutput(s: DecoderActivations.Layer, out: UnsafeMutablePointer<Float>, N: Int) {
        products.linearForward(out: out, inp: s.attention.pointer, weight: weights.attentionOutput, bias: weights.attentionOutputBias,
                      layout: config.weightLayout, N: N, I: Q, O: config.width)
    }

    /// Accumulates d(x) into dx (N, C) from d(out) of projectOutput, through attend and project; with g, the weight
    /// gradients. Scratch from a.
    func backward(dout: UnsafePointer<Float>, x: UnsafePointer<Float>, s: DecoderActivations.Layer, a: inout DecoderActivations,
                  g: DecoderTensors.Block?, dx: UnsafeMutablePointer<Float>, batch: RaggedBatch, positions: UnsafePointer<Int32>) {
        let c = config, w = weights
        let (N, C, H, G, D) = (batch.tokenCount, c.width, c.heads, c.kvHeads, c.headSize)
        let dAttention = a.dAttention.zeroed(N * Q)
        products.linearBackward(dinp: dAttention, dweight: g?.attentionOutput, dbias: g?.attentionOutputBias, dout: dout,
                       inp: s.attention.pointer, weight: w.attentionOutput, layout: c.weightLayout, N: N, I: Q, O: C)
        let (q, k, v) = queryKeyValue(s)
        let scratch = a.attentionScratch.zeroed(batch.maxLength * batch.maxLength)
        if c.conv1DProjections {
            let dqkv = a.dQKV.zeroed(N * (Q + 2 * K)), stride = Q + 2 * K
            attentionBackward(dq: HeadMatrix(dqkv, stride: stride), dk: HeadMatrix(dqkv + Q, stride: stride),
                              dv: HeadMatrix(dqkv + Q + K, stride: stride), scratch: scratch,
                              dout: HeadMatrix(dAttention, stride: Q), probs: s.probabilities.pointer,
                              q: q, k: k, v: v, batch: batch, shape: shape)
            products.linearBackward(dinp: dx, dweight: g?.query, dbias: g?.queryBias, dout: dqkv, inp: x, weight: w.query,
                           layout: .inputMajor, N: N, I: C, O: Q + 2 * K)
            return
        }
        let dRotatedQuery = a.dRotatedQuery.zeroed(N * Q), dRotatedKey = a.dRotatedKey.zeroed(N * K)
        let dValue = a.dValue.zeroed(N * K)
        attentionBackward(dq: HeadMatrix(dRotatedQuery, stride: Q), dk: HeadMatrix(dRotatedKey, stride: K),
                          dv: HeadMatrix(dValue, stride: K), scratch: scratch,
                          dout: HeadMatrix(dAttention, stride: Q), probs: s.probabilities.pointer,
                          q: q, k: k, v: v, batch: batch, shape: shape)
        if c.positions == .rotary {
            ropeBackward(dRotatedQuery, positions: positions, table: rope, N: N, heads: H)
            ropeBackward(dRotatedKey, positions: positions, table: rope, N: N, heads: G)
        }
        var (dQuery, dKey) = (UnsafePointer(dRotatedQuery), UnsafePointer(dRotatedKey))
        if let queryNorm = w.queryNorm, let keyNorm = w.keyNorm {
            let dq = a.dQuery.zeroed(N * Q), dk = a.dKey.zeroed(N * K)
            rmsNormBackward(dinp: dq, dweight: g?.queryNorm, dout: dRotatedQuery, inp: s.query.pointer,
                            weight: queryNorm, rstd: s.queryRstd.pointer, N: N * H, C: D)
            rmsNormBackward(dinp: dk, dweight: g?.keyNorm, dout: dRotatedKey, inp: s.key.pointer,
                            weight: keyNorm, rstd: s.keyRstd.pointer, N: N * G, C: D)
            (dQuery, dKey) = (UnsafePointer(dq), UnsafePointer(dk))
        }
        products.linearBackward(dinp: dx, dweight: g?.query, dbias: g?.queryBias, dout: dQuery, inp: x, weight: w.query,
                       layout: .outputMajor, N: N, I: C, O: Q)
        products.linearBackward(dinp: dx, dweight: g?.key, dbias: g?.keyBias, dout: dKey, inp: x, weight: w.key!,
                       layout: .outputMajor, N: N, I: C, O: K)
        products.linearBackward(dinp: dx, dweight: g?.value, dbias: g?.valueBias, dout: dValue, inp: x, weight: w.value!,
                       layout: .outputMajor, N: N, I: C, O: K)
    }
}
