// Incremental Gemma 3 decoding with a key/value cache of rotated keys and values.
// Dimensions: n new tokens, T capacity, C channels, Q = H·D, K = G·D, F feed-forward, V vocabulary.
import Kernels

final class Gemma3Decoder: TokenDecoder {
    let model: Gemma3
    private let cache: KeyValueCache
    var position: Int { cache.position }
    var capacity: Int { cache.capacity }
    private var x = GrowableBuffer(), norm = GrowableBuffer(), middle = GrowableBuffer(), projected = GrowableBuffer()  // (n, C)
    private var query = GrowableBuffer(), attention = GrowableBuffer()  // (n, Q)
    private var key = GrowableBuffer(), value = GrowableBuffer()        // (n, K)
    private var gate = GrowableBuffer(), up = GrowableBuffer()          // (n, F)
    private var scores = GrowableBuffer(), rstd = GrowableBuffer()      // (n, T), (n·H)
    private let logits: FloatBuffer                                     // (V)

    init(model: Gemma3, capacity: Int) {
        self.model = model
        cache = KeyValueCache(layers: model.config.layers, width: model.config.kvHeads * model.config.headSize, capacity: capacity)
        logits = FloatBuffer(count: model.config.vocabularySize)
    }

    func reset() { cache.reset() }

    func append(_ ids: [Int32]) throws -> UnsafeBufferPointer<Float> {
        try cache.checkRoom(for: ids.count)
        let c = model.config, w = model.weights
        let (n, C, H, G, D, F) = (ids.count, c.width, c.heads, c.kvHeads, c.headSize, c.feedForwardWidth)
        let (Q, K, eps) = (H * D, G * D, c.rmsNormEpsilon)
        for b in [\Gemma3Decoder.x, \.norm, \.middle, \.projected] { self[keyPath: b].reserve(n * C) }
        query.reserve(n * Q); attention.reserve(n * Q); key.reserve(n * K); value.reserve(n * K)
        gate.reserve(n * F); up.reserve(n * F)
        scores.reserve(n * (position + n)); rstd.reserve(n * H)
        model.localRope.reserve(positions: position + n)
        model.globalRope.reserve(positions: position + n)

        try model.embed(ids, into: x.pointer)
        let positions = (position..<(position + n)).map(Int32.init)
        positions.withUnsafeBufferPointer { positionPointer in
            let pos = positionPointer.baseAddress!
            for l in 0..<c.layers {
                let b = w.blocks[l], rope = model.rope(for: l)
                let cachedKeys = cache.keys[l].pointer + position * K, cachedValues = cache.values[l].pointer + position * K
                rmsNormForward(out: norm.pointer, rstd: rstd.pointer, inp: x.pointer, weight: b.attentionNorm, N: n, C: C, eps: eps)
                linearForward(out: query.pointer, inp: norm.pointer, weight: b.query, bias: nil, layout: .outputMajor, N: n, I: C, O: Q)
                linearForward(out: key.pointer, inp: norm.pointer, weight: b.key, bias: nil, layout: .outputMajor, N: n, I: C, O: K)
                linearForward(out: cachedValues, inp: norm.pointer, weight: b.value, bias: nil, layout: .outputMajor, N: n, I: C, O: K)
                rmsNormForward(out: query.pointer, rstd: rstd.pointer, inp: query.pointer, weight: b.queryNorm, N: n * H, C: D, eps: eps)
                rmsNormForward(out: cachedKeys, rstd: rstd.pointer, inp: key.pointer, weight: b.keyNorm, N: n * G, C: D, eps: eps)
                ropeForward(query.pointer, positions: pos, table: rope, N: n, heads: H)
                ropeForward(cachedKeys, positions: pos, table: rope, N: n, heads: G)
                cachedAttentionForward(out: HeadMatrix(attention.pointer, stride: Q), scores: scores.pointer,
                                       q: HeadMatrix(query.pointer, stride: Q), kCache: HeadMatrix(cache.keys[l].pointer, stride: K),
                                       vCache: HeadMatrix(cache.values[l].pointer, stride: K), past: position, count: n,
                                       shape: model.attentionShape(layer: l))
                linearForward(out: projected.pointer, inp: attention.pointer, weight: b.attentionOutput, bias: nil,
                              layout: .outputMajor, N: n, I: Q, O: C)
                rmsNormForward(out: middle.pointer, rstd: rstd.pointer, inp: projected.pointer, weight: b.postAttentionNorm, N: n, C: C, eps: eps)
                addInPlace(middle.pointer, x.pointer, count: n * C)
                rmsNormForward(out: norm.pointer, rstd: rstd.pointer, inp: middle.pointer, weight: b.feedForwardNorm, N: n, C: C, eps: eps)
                linearForward(out: gate.pointer, inp: norm.pointer, weight: b.gate, bias: nil, layout: .outputMajor, N: n, I: C, O: F)
                linearForward(out: up.pointer, inp: norm.pointer, weight: b.up, bias: nil, layout: .outputMajor, N: n, I: C, O: F)
                gegluForward(out: gate.pointer, gate: gate.pointer, up: up.pointer, count: n * F)
                linearForward(out: projected.pointer, inp: gate.pointer, weight: b.down, bias: nil, layout: .outputMajor, N: n, I: F, O: C)
                rmsNormForward(out: x.pointer, rstd: rstd.pointer, inp: projected.pointer, weight: b.postFeedForwardNorm, N: n, C: C, eps: eps)
                addInPlace(x.pointer, middle.pointer, count: n * C)
            }
        }
        cache.advance(by: n)
        let lastRow = x.pointer + (n - 1) * C
        rmsNormForward(out: norm.pointer, rstd: rstd.pointer, inp: lastRow, weight: w.outputNorm, N: 1, C: C, eps: eps)
        linearForward(out: logits.pointer, inp: norm.pointer, weight: w.embedding, bias: nil, layout: .outputMajor,
                      N: 1, I: C, O: c.vocabularySize)
        return UnsafeBufferPointer(start: logits.pointer, count: c.vocabularySize)
    }
}
