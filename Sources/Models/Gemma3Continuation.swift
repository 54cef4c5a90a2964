// Gemma 3 after cached tokens: the new tokens of several sequences run together (one GEMM per linear layer
// for all of them), each attending to its own key/value cache. Incremental decoding is the one-sequence case.
// Dimensions: N new tokens of all sequences, C channels, Q = H·D, K = G·D, F feed-forward.
import Kernels

struct Gemma3ContinuationBuffers {
    var x = GrowableBuffer(), norm = GrowableBuffer(), middle = GrowableBuffer(), projected = GrowableBuffer()  // (N, C)
    var query = GrowableBuffer(), attention = GrowableBuffer()  // (N, Q)
    var key = GrowableBuffer(), value = GrowableBuffer()        // (N, K) rotated, normed keys; values
    var gate = GrowableBuffer(), up = GrowableBuffer()          // (N, F)
    var scores = GrowableBuffer(), rstd = GrowableBuffer()      // (n · (past + n)), (N · H)
    var scratch = ContinuationScratch()
}

extension Gemma3 {
    public func makeCache(capacity: Int) -> KeyValueCache {
        KeyValueCache(layers: config.layers, width: config.kvHeads * config.headSize, capacity: min(capacity, config.context))
    }

    public func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, continuing caches: [KeyValueCache], extend: Bool) throws -> UnsafePointer<Float> {
        let positions = try continuationPositions(batch: batch, caches: caches, extend: extend, context: config.context)
        let c = config, w = weights
        let (N, C, H, G, D, F) = (batch.tokenCount, c.width, c.heads, c.kvHeads, c.headSize, c.feedForwardWidth)
        let (Q, K, eps) = (H * D, G * D, c.rmsNormEpsilon)
        let longest = zip(caches, batch.lengths).map { $0.position + $1 }.max()!
        var b = continuation
        for buffer in [\Gemma3ContinuationBuffers.x, \.norm, \.middle, \.projected] { b[keyPath: buffer].reserve(N * C) }
        b.query.reserve(N * Q); b.attention.reserve(N * Q); b.key.reserve(N * K); b.value.reserve(N * K)
        b.gate.reserve(N * F); b.up.reserve(N * F)
        b.scores.reserve(batch.maxLength * longest); b.rstd.reserve(N * H)
        localRope.reserve(positions: longest)
        globalRope.reserve(positions: longest)

        b.x.pointer.update(from: inputs, count: N * C)
        positions.withUnsafeBufferPointer { positionPointer in
            let pos = positionPointer.baseAddress!
            for l in 0..<c.layers {
                let block = w.blocks[l], table = rope(for: l), shape = attentionShape(layer: l)
                rmsNormForward(out: b.norm.pointer, rstd: b.rstd.pointer, inp: b.x.pointer, weight: block.attentionNorm, N: N, C: C, eps: eps)
                linearForward(out: b.query.pointer, inp: b.norm.pointer, weight: block.query, bias: nil, layout: .outputMajor, N: N, I: C, O: Q)
                linearForward(out: b.key.pointer, inp: b.norm.pointer, weight: block.key, bias: nil, layout: .outputMajor, N: N, I: C, O: K)
                linearForward(out: b.value.pointer, inp: b.norm.pointer, weight: block.value, bias: nil, layout: .outputMajor, N: N, I: C, O: K)
                rmsNormForward(out: b.query.pointer, rstd: b.rstd.pointer, inp: b.query.pointer, weight: block.queryNorm, N: N * H, C: D, eps: eps)
                rmsNormForward(out: b.key.pointer, rstd: b.rstd.pointer, inp: b.key.pointer, weight: block.keyNorm, N: N * G, C: D, eps: eps)
                ropeForward(b.query.pointer, positions: pos, table: table, N: N, heads: H)
                ropeForward(b.key.pointer, positions: pos, table: table, N: N, heads: G)
                for (s, cache) in caches.enumerated() {
                    let start = batch.offsets[s], n = batch.lengths[s]
                    let store = b.scratch.storage(cache, layer: l, newKeys: b.key.pointer + start * K,
                                                  newValues: b.value.pointer + start * K, count: n, extend: extend)
                    cachedAttentionForward(out: HeadMatrix(b.attention.pointer + start * Q, stride: Q), scores: b.scores.pointer,
                                           q: HeadMatrix(b.query.pointer + start * Q, stride: Q), kCache: HeadMatrix(store.keys, stride: K),
                                           vCache: HeadMatrix(store.values, stride: K), past: cache.position, count: n, shape: shape)
                }
                linearForward(out: b.projected.pointer, inp: b.attention.pointer, weight: block.attentionOutput, bias: nil,
                              layout: .outputMajor, N: N, I: Q, O: C)
                rmsNormForward(out: b.middle.pointer, rstd: b.rstd.pointer, inp: b.projected.pointer, weight: block.postAttentionNorm, N: N, C: C, eps: eps)
                addInPlace(b.middle.pointer, b.x.pointer, count: N * C)
                rmsNormForward(out: b.norm.pointer, rstd: b.rstd.pointer, inp: b.middle.pointer, weight: block.feedForwardNorm, N: N, C: C, eps: eps)
                linearForward(out: b.gate.pointer, inp: b.norm.pointer, weight: block.gate, bias: nil, layout: .outputMajor, N: N, I: C, O: F)
                linearForward(out: b.up.pointer, inp: b.norm.pointer, weight: block.up, bias: nil, layout: .outputMajor, N: N, I: C, O: F)
                gegluForward(out: b.gate.pointer, gate: b.gate.pointer, up: b.up.pointer, count: N * F)
                linearForward(out: b.projected.pointer, inp: b.gate.pointer, weight: block.down, bias: nil, layout: .outputMajor, N: N, I: F, O: C)
                rmsNormForward(out: b.x.pointer, rstd: b.rstd.pointer, inp: b.projected.pointer, weight: block.postFeedForwardNorm, N: N, C: C, eps: eps)
                addInPlace(b.x.pointer, b.middle.pointer, count: N * C)
            }
        }
        if extend { for (cache, n) in zip(caches, batch.lengths) { cache.advance(by: n) } }
        rmsNormForward(out: b.norm.pointer, rstd: b.rstd.pointer, inp: b.x.pointer, weight: w.outputNorm, N: N, C: C, eps: eps)
        continuation = b
        return UnsafePointer(b.norm.pointer)
    }
}
