// Incremental GPT-2 decoding with a key/value cache: each new token attends to cached keys and values
// instead of recomputing the whole prefix. Dimensions: n new tokens, T capacity, C channels, V vocabulary.
import Kernels

final class GPT2Decoder: TokenDecoder {
    let model: GPT2
    private let cache: KeyValueCache
    var position: Int { cache.position }
    var capacity: Int { cache.capacity }
    private var x = GrowableBuffer(), norm = GrowableBuffer(), qkv = GrowableBuffer()  // (n,C), (n,C), (n,3C)
    private var attention = GrowableBuffer(), middle = GrowableBuffer()                // (n, C)
    private var fc = GrowableBuffer(), fcGelu = GrowableBuffer()                       // (n, 4C)
    private var scores = GrowableBuffer()                                             // (n, T)
    private var statistics = GrowableBuffer()                                         // (2n) LayerNorm mean, rstd
    private let logits: FloatBuffer                                                    // (V)

    init(model: GPT2, capacity: Int) {
        self.model = model
        cache = KeyValueCache(layers: model.config.layers, width: model.config.width, capacity: capacity)
        logits = FloatBuffer(count: model.config.vocabularySize)
    }

    func reset() { cache.reset() }

    func append(_ ids: [Int32]) throws -> UnsafeBufferPointer<Float> {
        try cache.checkRoom(for: ids.count)
        let config = model.config, w = model.weights
        let n = ids.count, C = config.width, eps = config.layerNormEpsilon
        for buffer in [\GPT2Decoder.x, \.norm, \.attention, \.middle] { self[keyPath: buffer].reserve(n * C) }
        qkv.reserve(n * 3 * C); fc.reserve(n * 4 * C); fcGelu.reserve(n * 4 * C)
        scores.reserve(n * (position + n))
        statistics.reserve(2 * n)
        let mean = statistics.pointer, rstd = statistics.pointer + n

        try model.embed(ids, into: x.pointer)
        let positions = (position..<(position + n)).map(Int32.init)
        positions.withUnsafeBufferPointer {
            positionEmbeddingForward(out: x.pointer, inp: x.pointer, wpe: w.wpe, positions: $0.baseAddress!, N: n, C: C)
        }
        for l in 0..<config.layers {
            let b = w.blocks[l]
            layerNormForward(out: norm.pointer, mean: mean, rstd: rstd, inp: x.pointer,
                             weight: b.ln1Weight, bias: b.ln1Bias, N: n, C: C, eps: eps)
            linearForward(out: qkv.pointer, inp: norm.pointer, weight: b.qkvWeight, bias: b.qkvBias,
                          layout: .inputMajor, N: n, I: C, O: 3 * C)
            for i in 0..<n {
                (cache.keys[l].pointer + (position + i) * C).update(from: qkv.pointer + i * 3 * C + C, count: C)
                (cache.values[l].pointer + (position + i) * C).update(from: qkv.pointer + i * 3 * C + 2 * C, count: C)
            }
            cachedAttentionForward(out: HeadMatrix(attention.pointer, stride: C), scores: scores.pointer,
                                   q: HeadMatrix(qkv.pointer, stride: 3 * C), kCache: HeadMatrix(cache.keys[l].pointer, stride: C),
                                   vCache: HeadMatrix(cache.values[l].pointer, stride: C), past: position, count: n,
                                   shape: model.attentionShape)
            linearForward(out: middle.pointer, inp: attention.pointer, weight: b.attentionProjWeight,
                          bias: b.attentionProjBias, layout: .inputMajor, N: n, I: C, O: C)
            addInPlace(middle.pointer, x.pointer, count: n * C)
            layerNormForward(out: norm.pointer, mean: mean, rstd: rstd, inp: middle.pointer,
                             weight: b.ln2Weight, bias: b.ln2Bias, N: n, C: C, eps: eps)
            linearForward(out: fc.pointer, inp: norm.pointer, weight: b.fcWeight, bias: b.fcBias,
                          layout: .inputMajor, N: n, I: C, O: 4 * C)
            geluForward(out: fcGelu.pointer, inp: fc.pointer, count: n * 4 * C)
            linearForward(out: x.pointer, inp: fcGelu.pointer, weight: b.fcProjWeight, bias: b.fcProjBias,
                          layout: .inputMajor, N: n, I: 4 * C, O: C)
            addInPlace(x.pointer, middle.pointer, count: n * C)
        }
        cache.advance(by: n)
        // Only the last token's logits are needed to pick the next one.
        let lastRow = x.pointer + (n - 1) * C
        layerNormForward(out: norm.pointer, mean: mean, rstd: rstd, inp: lastRow,
                         weight: w.lnfWeight, bias: w.lnfBias, N: 1, C: C, eps: eps)
        linearForward(out: logits.pointer, inp: norm.pointer, weight: w.wte, bias: nil, layout: .outputMajor,
                      N: 1, I: C, O: config.vocabularySize)
        return UnsafeBufferPointer(start: logits.pointer, count: config.vocabularySize)
    }
}
