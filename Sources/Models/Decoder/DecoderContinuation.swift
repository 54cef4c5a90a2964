// The decoder after cached tokens: the new tokens of several sequences run together (one GEMM per linear layer
// for all of them), each attending to its own key/value cache. Incremental decoding is the one-sequence case.
// The blocks are the training forward's (attentionInputs, attentionOutputAndFeedForward); only attention differs.
// Dimensions: N new tokens of all sequences, C channels, Q = H·D, K = G·D.
import Kernels

struct DecoderContinuationBuffers {
    let layer = DecoderActivations.Layer()                  // one block's activations, reused by every block
    var x = GrowableBuffer()                               // (N, C) the residual stream
    var key = GrowableBuffer(), value = GrowableBuffer()   // (N, K) new keys and values, contiguous: fused only
    var scores = GrowableBuffer()                          // (n · (past + n)) one sequence's attention scores
    var scratch = ContinuationScratch()
}

extension DecoderModel {
    /// New tokens per sequence up to which a continuation's attention runs on one OpenBLAS thread.
    static let fewNewTokens = 16

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
        if c.positions == .rotary {
            localRope.reserve(positions: longest)
            globalRope.reserve(positions: longest)
        }

        positions.withUnsafeBufferPointer { positionPointer in
            let pos = positionPointer.baseAddress!
            firstResidual(out: b.x.pointer, inputs: inputs, positions: pos, N: N)
            for l in 0..<c.layers {
                attentionInputs(layer: l, x: b.x.pointer, s: s, positions: pos, N: N)
                var (q, k, v) = attention(layer: l).queryKeyValue(s)
                if c.conv1DProjections {
                    // The cache takes rows of K contiguous floats: copy them out of the fused projection.
                    b.key.reserve(N * K); b.value.reserve(N * K)
                    for i in 0..<N {
                        (b.key.pointer + i * K).update(from: k.base + i * k.stride, count: K)
                        (b.value.pointer + i * K).update(from: v.base + i * v.stride, count: K)
                    }
                    (k, v) = (HeadMatrix(b.key.pointer, stride: K), HeadMatrix(b.value.pointer, stride: K))
                }
                let attend = {
                    for (i, cache) in caches.enumerated() {
                        let start = batch.offsets[i], n = batch.lengths[i]
                        let store = b.scratch.storage(cache, layer: l, newKeys: k.base + start * K,
                                                      newValues: v.base + start * K, count: n, extend: extend)
                        cachedAttentionForward(out: HeadMatrix(s.attention.pointer + start * Q, stride: Q), scores: b.scores.pointer,
                                               q: HeadMatrix(q.base + start * q.stride, stride: q.stride), kCache: HeadMatrix(store.keys, stride: K),
                                               vCache: HeadMatrix(store.values, stride: K), past: cache.position, count: n,
                                               shape: self.attentionShape(layer: l))
                    }
                }
                // Decoding's attention products are small (a few new queries against a cache): on one OpenBLAS thread,
                // its pool is not woken to spin on the cores the next products need. A long continuation keeps them.
                if batch.maxLength <= Self.fewNewTokens { BLAS.singleThreaded(attend) } else { attend() }
                attentionOutputAndFeedForward(layer: l, x: b.x.pointer, s: s, N: N)
                b.x.pointer.update(from: s.output.pointer, count: N * C)
            }
        }
        if extend { for (cache, n) in zip(caches, batch.lengths) { cache.advance(by: n) } }
        outputNorm.forward(out: s.norm1.pointer, statistics: s.statistics1.pointer, inp: b.x.pointer, N: N, C: C)
        continuation = b
        return UnsafePointer(s.norm1.pointer)
    }
}
