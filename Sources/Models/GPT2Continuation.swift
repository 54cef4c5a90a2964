// GPT-2 after cached tokens: the new tokens of several sequences run together (one GEMM per linear layer for
// all of them), each attending to its own key/value cache. Incremental decoding is the one-sequence case.
// Dimensions: N new tokens of all sequences, C channels.
import Kernels

struct GPT2ContinuationBuffers {
    var x = GrowableBuffer(), norm = GrowableBuffer(), attention = GrowableBuffer(), middle = GrowableBuffer()  // (N, C)
    var qkv = GrowableBuffer()                                     // (N, 3C)
    var key = GrowableBuffer(), value = GrowableBuffer()           // (N, C) contiguous copies for the caches
    var fc = GrowableBuffer(), fcGelu = GrowableBuffer()           // (N, 4C)
    var scores = GrowableBuffer(), statistics = GrowableBuffer()   // (n · (past + n)), (2N) LayerNorm mean, rstd
    var scratch = ContinuationScratch()
}

extension GPT2 {
    public func makeCache(capacity: Int) -> KeyValueCache {
        KeyValueCache(layers: config.layers, width: config.width, capacity: min(capacity, config.positions))
    }

    public func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, continuing caches: [KeyValueCache], extend: Bool) throws -> UnsafePointer<Float> {
        let positions = try continuationPositions(batch: batch, caches: caches, extend: extend, context: config.positions)
        let w = weights, N = batch.tokenCount, C = config.width, eps = config.layerNormEpsilon, shape = attentionShape
        let longest = zip(caches, batch.lengths).map { $0.position + $1 }.max()!
        var b = continuation
        for buffer in [\GPT2ContinuationBuffers.x, \.norm, \.attention, \.middle, \.key, \.value] { b[keyPath: buffer].reserve(N * C) }
        b.qkv.reserve(N * 3 * C); b.fc.reserve(N * 4 * C); b.fcGelu.reserve(N * 4 * C)
        b.scores.reserve(batch.maxLength * longest); b.statistics.reserve(2 * N)
        let mean = b.statistics.pointer, rstd = b.statistics.pointer + N

        positions.withUnsafeBufferPointer {
            positionEmbeddingForward(out: b.x.pointer, inp: inputs, wpe: w.wpe, positions: $0.baseAddress!, N: N, C: C)
        }
        for l in 0..<config.layers {
            let block = w.blocks[l]
            layerNormForward(out: b.norm.pointer, mean: mean, rstd: rstd, inp: b.x.pointer,
                             weight: block.ln1Weight, bias: block.ln1Bias, N: N, C: C, eps: eps)
            linearForward(out: b.qkv.pointer, inp: b.norm.pointer, weight: block.qkvWeight, bias: block.qkvBias,
                          layout: .inputMajor, N: N, I: C, O: 3 * C)
            for i in 0..<N {
                (b.key.pointer + i * C).update(from: b.qkv.pointer + i * 3 * C + C, count: C)
                (b.value.pointer + i * C).update(from: b.qkv.pointer + i * 3 * C + 2 * C, count: C)
            }
            for (s, cache) in caches.enumerated() {
                let start = batch.offsets[s], n = batch.lengths[s]
                let store = b.scratch.storage(cache, layer: l, newKeys: b.key.pointer + start * C,
                                              newValues: b.value.pointer + start * C, count: n, extend: extend)
                cachedAttentionForward(out: HeadMatrix(b.attention.pointer + start * C, stride: C), scores: b.scores.pointer,
                                       q: HeadMatrix(b.qkv.pointer + start * 3 * C, stride: 3 * C), kCache: HeadMatrix(store.keys, stride: C),
                                       vCache: HeadMatrix(store.values, stride: C), past: cache.position, count: n, shape: shape)
            }
            linearForward(out: b.middle.pointer, inp: b.attention.pointer, weight: block.attentionProjWeight,
                          bias: block.attentionProjBias, layout: .inputMajor, N: N, I: C, O: C)
            addInPlace(b.middle.pointer, b.x.pointer, count: N * C)
            layerNormForward(out: b.norm.pointer, mean: mean, rstd: rstd, inp: b.middle.pointer,
                             weight: block.ln2Weight, bias: block.ln2Bias, N: N, C: C, eps: eps)
            linearForward(out: b.fc.pointer, inp: b.norm.pointer, weight: block.fcWeight, bias: block.fcBias,
                          layout: .inputMajor, N: N, I: C, O: 4 * C)
            geluForward(out: b.fcGelu.pointer, inp: b.fc.pointer, count: N * 4 * C)
            linearForward(out: b.x.pointer, inp: b.fcGelu.pointer, weight: block.fcProjWeight, bias: block.fcProjBias,
                          layout: .inputMajor, N: N, I: 4 * C, O: C)
            addInPlace(b.x.pointer, b.middle.pointer, count: N * C)
        }
        if extend { for (cache, n) in zip(caches, batch.lengths) { cache.advance(by: n) } }
        layerNormForward(out: b.norm.pointer, mean: mean, rstd: rstd, inp: b.x.pointer,
                         weight: w.lnfWeight, bias: w.lnfBias, N: N, C: C, eps: eps)
        continuation = b
        return UnsafePointer(b.norm.pointer)
    }
}
