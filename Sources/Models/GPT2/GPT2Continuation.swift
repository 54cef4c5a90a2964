// GPT-2 after cached tokens: the new tokens of several sequences run together (one GEMM per linear layer for
// all of them), each attending to its own key/value cache. Incremental decoding is the one-sequence case.
// The blocks are the training forward's (attentionInputs, attentionOutputAndFeedForward); only attention differs.
// Dimensions: N new tokens of all sequences, C channels.
import Kernels

struct GPT2ContinuationBuffers {
    let layer = GPT2Activations.Layer()                    // one block's activations, reused by every block
    var x = GrowableBuffer()                               // (N, C) the residual stream
    var key = GrowableBuffer(), value = GrowableBuffer()   // (N, C) the new keys and values, contiguous
    var scores = GrowableBuffer()                          // (n · (past + n)) one sequence's attention scores
    var scratch = ContinuationScratch()
}

extension GPT2 {
    public func makeCache(capacity: Int) -> KeyValueCache {
        KeyValueCache(layers: config.layers, width: config.width, capacity: min(capacity, config.positions))
    }

    public func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, continuing caches: [KeyValueCache], extend: Bool) throws -> UnsafePointer<Float> {
        let positions = try continuationPositions(batch: batch, caches: caches, extend: extend, context: config.positions)
        let N = batch.tokenCount, C = config.width
        let longest = zip(caches, batch.lengths).map { $0.position + $1 }.max()!
        var b = continuation
        let s = b.layer
        s.reserve(tokens: N, width: C, attention: 0)
        b.x.reserve(N * C); b.key.reserve(N * C); b.value.reserve(N * C); b.scores.reserve(batch.maxLength * longest)

        positions.withUnsafeBufferPointer {
            positionEmbeddingForward(out: b.x.pointer, inp: inputs, wpe: weights.wpe, positions: $0.baseAddress!, N: N, C: C)
        }
        for l in 0..<config.layers {
            attentionInputs(layer: l, x: b.x.pointer, s: s, N: N)
            for i in 0..<N {
                (b.key.pointer + i * C).update(from: s.qkv.pointer + i * 3 * C + C, count: C)
                (b.value.pointer + i * C).update(from: s.qkv.pointer + i * 3 * C + 2 * C, count: C)
            }
            for (i, cache) in caches.enumerated() {
                let start = batch.offsets[i], n = batch.lengths[i]
                let store = b.scratch.storage(cache, layer: l, newKeys: b.key.pointer + start * C,
                                              newValues: b.value.pointer + start * C, count: n, extend: extend)
                cachedAttentionForward(out: HeadMatrix(s.attention.pointer + start * C, stride: C), scores: b.scores.pointer,
                                       q: HeadMatrix(s.qkv.pointer + start * 3 * C, stride: 3 * C), kCache: HeadMatrix(store.keys, stride: C),
                                       vCache: HeadMatrix(store.values, stride: C), past: cache.position, count: n, shape: attentionShape)
            }
            attentionOutputAndFeedForward(layer: l, x: b.x.pointer, s: s, N: N)
            b.x.pointer.update(from: s.output.pointer, count: N * C)
        }
        if extend { for (cache, n) in zip(caches, batch.lengths) { cache.advance(by: n) } }
        layerNormForward(out: s.ln1.pointer, mean: s.ln1Mean.pointer, rstd: s.ln1Rstd.pointer, inp: b.x.pointer,
                         weight: weights.lnfWeight, bias: weights.lnfBias, N: N, C: C, eps: config.layerNormEpsilon)
        continuation = b
        return UnsafePointer(s.ln1.pointer)
    }
}
