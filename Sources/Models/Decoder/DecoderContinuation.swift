// The decoder after cached tokens: the new tokens of several sequences run together (one GEMM per linear layer
// for all of them), each attending to its own key/value cache. Incremental decoding is the one-sequence case.
// The blocks are the training forward's (attentionInputs, attentionOutputAndFeedForward); only attention differs.
// Dimensions: N new tokens of all sequences, C channels, Q = H·D, K = G·D.
import Kernels

struct DecoderContinuationBuffers {
    let layer = DecoderActivations.Layer()                  // one block's activations, reused by every block
    var x = GrowableBuffer()                               // (N, C) the residual stream
    var scores = GrowableBuffer()                          // (n · (past + n)) one sequence's attention scores
    var scratch = ContinuationScratch()
}

extension DecoderModel {
    public func makeCache(capacity: Int) -> KeyValueCache {
        KeyValueCache(layers: config.layers, width: config.kvHeads * config.headSize, capacity: min(capacity, config.context))
    }

    public func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, continuing caches: [KeyValueCache], extend: Bool) throws -> UnsafePointer<Float> {
        let positions = try continuationPositions(batch: batch, caches: caches, extend: extend, context: config.context)
        let c = config, N = batch.tokenCount, C = c.width
        let (Q, K) = (c.heads * c.headSize, c.kvHeads * c.headSize)
        let longest = zip(caches, batch.lengths).map { $0.position + $1 }.max()!
        var b = continuation
        let s = b.layer
        s.reserve(c, tokens: N, attention: 0)
        b.x.reserve(N * C); b.scores.reserve(batch.maxLength * longest)
        localRope.reserve(positions: longest)
        globalRope.reserve(positions: longest)

        b.x.pointer.update(from: inputs, count: N * C)
        positions.withUnsafeBufferPointer { positionPointer in
            for l in 0..<c.layers {
                attentionInputs(layer: l, x: b.x.pointer, s: s, positions: positionPointer.baseAddress!, N: N)
                for (i, cache) in caches.enumerated() {
                    let start = batch.offsets[i], n = batch.lengths[i]
                    let store = b.scratch.storage(cache, layer: l, newKeys: s.rotatedKey.pointer + start * K,
                                                  newValues: s.value.pointer + start * K, count: n, extend: extend)
                    cachedAttentionForward(out: HeadMatrix(s.attention.pointer + start * Q, stride: Q), scores: b.scores.pointer,
                                           q: HeadMatrix(s.rotatedQuery.pointer + start * Q, stride: Q), kCache: HeadMatrix(store.keys, stride: K),
                                           vCache: HeadMatrix(store.values, stride: K), past: cache.position, count: n,
                                           shape: attentionShape(layer: l))
                }
                attentionOutputAndFeedForward(layer: l, x: b.x.pointer, s: s, N: N)
                b.x.pointer.update(from: s.output.pointer, count: N * C)
            }
        }
        if extend { for (cache, n) in zip(caches, batch.lengths) { cache.advance(by: n) } }
        rmsNormForward(out: s.norm1.pointer, rstd: s.rstd1.pointer, inp: b.x.pointer, weight: weights.outputNorm, N: N, C: C, eps: c.rmsNormEpsilon)
        continuation = b
        return UnsafePointer(s.norm1.pointer)
    }
}
