// Causal scaled-dot-product attention over a ragged batch, as batched GEMMs per (example, head).
// Covers GPT-2 (multi-head, full context) and Gemma 3 (grouped-query, optional sliding window).
// Dimensions: N packed rows, H query heads, G key/value heads, D head size, L one example's length.

public struct AttentionShape: Sendable {
    public var heads: Int          // H
    public var kvHeads: Int        // G; H must be a multiple of G
    public var headSize: Int       // D
    public var scale: Float        // usually 1/√D
    public var window: Int?        // a query sees at most this many keys (itself included); nil: all

    public init(heads: Int, kvHeads: Int, headSize: Int, scale: Float, window: Int? = nil) {
        precondition(heads % kvHeads == 0, "query heads must be a multiple of key/value heads")
        self.heads = heads; self.kvHeads = kvHeads; self.headSize = headSize
        self.scale = scale; self.window = window
    }

    /// First key a query at position i may see.
    @inline(__always) func firstKey(_ i: Int) -> Int { window.map { max(0, i - $0 + 1) } ?? 0 }
}

/// A strided view of a (N, heads·D) activation: head h of row n starts at base + n·stride + h·D.
public struct HeadMatrix {
    public var base: UnsafeMutablePointer<Float>
    public var stride: Int
    public init(_ base: UnsafeMutablePointer<Float>, stride: Int) { self.base = base; self.stride = stride }
    @inline(__always) func at(row: Int, head: Int, D: Int) -> UnsafeMutablePointer<Float> {
        base + row * stride + head * D
    }
}

/// out (N, H·D) = softmax(scale · q kᵀ + causal mask) · v, per attention segment and head;
/// probs (H · Σ queries × keys) keeps the probabilities for the backward.
public func attentionForward(
    out: HeadMatrix, probs: UnsafeMutablePointer<Float>,
    q: HeadMatrix, k: HeadMatrix, v: HeadMatrix, batch: RaggedBatch, shape: AttentionShape
) {
    let H = shape.heads, D = shape.headSize, group = H / shape.kvHeads
    let segments = batch.attentionSegments
    let probsOffsets = batch.attentionOffsets(segments, heads: H)
    // Each (segment, head) writes its own probabilities and its own columns of out: they run in parallel.
    withSmallGEMMs(count: segments.count * H, parallel: true) { item in
        let segment = segments[item / H], h = item % H, g = h / group
        let (L, S, keys, row0) = (segment.length, segment.sharedRows, segment.keys, segment.row)
        let P = probs + probsOffsets[item / H] + h * L * keys
        // Scores against the shared rows in P's first S columns, against the segment's own rows after them.
        if S > 0 {
            sgemm(.none, .transposed, M: L, N: S, K: D, alpha: shape.scale,
                  A: q.at(row: row0, head: h, D: D), lda: q.stride,
                  B: k.at(row: 0, head: g, D: D), ldb: k.stride, beta: 0, C: P, ldc: keys)
        }
        sgemm(.none, .transposed, M: L, N: L, K: D, alpha: shape.scale,
              A: q.at(row: row0, head: h, D: D), lda: q.stride,
              B: k.at(row: row0, head: g, D: D), ldb: k.stride, beta: 0, C: P + S, ldc: keys)
        for i in 0..<L {
            let position = S + i, first = shape.firstKey(position)
            let row = P + i * keys
            softmaxRow(row + first, count: position + 1 - first)
            if first > 0 { row.update(repeating: 0, count: first) }
            if position + 1 < keys { (row + position + 1).update(repeating: 0, count: keys - position - 1) }
        }
        if S > 0 {
            sgemm(.none, .none, M: L, N: D, K: S, A: P, lda: keys,
                  B: v.at(row: 0, head: g, D: D), ldb: v.stride,
                  beta: 0, C: out.at(row: row0, head: h, D: D), ldc: out.stride)
        }
        sgemm(.none, .none, M: L, N: D, K: L, A: P + S, lda: keys,
              B: v.at(row: row0, head: g, D: D), ldb: v.stride,
              beta: S > 0 ? 1 : 0, C: out.at(row: row0, head: h, D: D), ldc: out.stride)
    }
}

/// Accumulates dq, dk, dv from dout; the shared start's keys and values gather every segment's gradient.
/// scratch holds at least maxLength² floats.
public func attentionBackward(
    dq: HeadMatrix, dk: HeadMatrix, dv: HeadMatrix, scratch: UnsafeMutablePointer<Float>,
    dout: HeadMatrix, probs: UnsafePointer<Float>,
    q: HeadMatrix, k: HeadMatrix, v: HeadMatrix, batch: RaggedBatch, shape: AttentionShape
) {
    let H = shape.heads, D = shape.headSize, group = H / shape.kvHeads
    let segments = batch.attentionSegments
    let probsOffsets = batch.attentionOffsets(segments, heads: H)
    // Heads of one segment share dk and dv (grouped-query), segments share the start's, and all share scratch: one
    // item after another, with OpenBLAS single-threaded for these small products.
    withSmallGEMMs(count: segments.count, parallel: false) { index in
        let segment = segments[index]
        let (L, S, keys, row0) = (segment.length, segment.sharedRows, segment.keys, segment.row)
        // The shared rows' part (P's first S columns) and the segment's own (the rest), each a product pair.
        let parts = (S > 0 ? [(column: 0, row: 0, count: S)] : []) + [(column: S, row: row0, count: L)]
        for h in 0..<H {
            let P = probs + probsOffsets[index] + h * L * keys
            let g = h / group
            let dO = dout.at(row: row0, head: h, D: D)
            // dP = dO · vᵀ ; dv += Pᵀ · dO
            for part in parts {
                sgemm(.none, .transposed, M: L, N: part.count, K: D, A: dO, lda: dout.stride,
                      B: v.at(row: part.row, head: g, D: D), ldb: v.stride, beta: 0, C: scratch + part.column, ldc: keys)
                sgemm(.transposed, .none, M: part.count, N: D, K: L, A: P + part.column, lda: keys, B: dO, ldb: dout.stride,
                      beta: 1, C: dv.at(row: part.row, head: g, D: D), ldc: dv.stride)
            }
            // Softmax backward, in place: dS = P ⊙ (dP − Σⱼ P·dP) · scale. Masked entries have P = 0.
            for i in 0..<L {
                let position = S + i
                softmaxRowBackward(dlogits: scratch + i * keys, probs: P + i * keys, count: position + 1, scale: shape.scale)
                if position + 1 < keys { (scratch + i * keys + position + 1).update(repeating: 0, count: keys - position - 1) }
            }
            // dq += dS · k ; dk += dSᵀ · q
            for part in parts {
                sgemm(.none, .none, M: L, N: D, K: part.count, A: scratch + part.column, lda: keys,
                      B: k.at(row: part.row, head: g, D: D), ldb: k.stride,
                      beta: 1, C: dq.at(row: row0, head: h, D: D), ldc: dq.stride)
                sgemm(.transposed, .none, M: part.count, N: D, K: L, A: scratch + part.column, lda: keys,
                      B: q.at(row: row0, head: h, D: D), ldb: q.stride,
                      beta: 1, C: dk.at(row: part.row, head: g, D: D), ldc: dk.stride)
            }
        }
    }
}

/// Attention for `count` new queries against a key/value cache that already holds `past` earlier
/// positions plus these new ones: the incremental-decoding form. Query i sits at position past + i.
/// scores needs count · (past + count) floats.
public func cachedAttentionForward(
    out: HeadMatrix, scores: UnsafeMutablePointer<Float>,
    q: HeadMatrix, kCache: HeadMatrix, vCache: HeadMatrix, past: Int, count: Int, shape: AttentionShape
) {
    let H = shape.heads, D = shape.headSize, group = H / shape.kvHeads, keys = past + count
    for h in 0..<H {
        let g = h / group
        sgemm(.none, .transposed, M: count, N: keys, K: D, alpha: shape.scale,
              A: q.at(row: 0, head: h, D: D), lda: q.stride,
              B: kCache.at(row: 0, head: g, D: D), ldb: kCache.stride, beta: 0, C: scores, ldc: keys)
        for i in 0..<count {
            let position = past + i, first = shape.firstKey(position)
            let row = scores + i * keys
            softmaxRow(row + first, count: position + 1 - first)
            if first > 0 { row.update(repeating: 0, count: first) }
            if position + 1 < keys { (row + position + 1).update(repeating: 0, count: keys - position - 1) }
        }
        sgemm(.none, .none, M: count, N: D, K: keys, A: scores, lda: keys,
              B: vCache.at(row: 0, head: g, D: D), ldb: vCache.stride,
              beta: 0, C: out.at(row: 0, head: h, D: D), ldc: out.stride)
    }
}
