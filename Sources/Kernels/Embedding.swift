// Token and position embeddings (GPT-2's wte and wpe). Dimensions: N rows, C channels, V vocabulary.

/// out (N,C) = wte[ids[n]] : the row lookup that turns ids into input embeddings.
public func tokenEmbeddingForward(
    out: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>, wte: UnsafePointer<Float>, N: Int, C: Int
) {
    for n in 0..<N { (out + n * C).update(from: wte + Int(ids[n]) * C, count: C) }
}

/// dwte[ids[n]] += dout[n]
public func tokenEmbeddingBackward(
    dwte: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, ids: UnsafePointer<Int32>, N: Int, C: Int
) {
    for n in 0..<N { addInPlace(dwte + Int(ids[n]) * C, dout + n * C, count: C) }
}

/// out (N,C) = inp (N,C) + wpe[positions[n]]
public func positionEmbeddingForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, wpe: UnsafePointer<Float>,
    positions: UnsafePointer<Int32>, N: Int, C: Int
) {
    for n in 0..<N { addForward(out: out + n * C, a: inp + n * C, b: wpe + Int(positions[n]) * C, count: C) }
}

/// dinp += dout; dwpe[positions[n]] += dout[n] (when given)
public func positionEmbeddingBackward(
    dinp: UnsafeMutablePointer<Float>?, dwpe: UnsafeMutablePointer<Float>?, dout: UnsafePointer<Float>,
    positions: UnsafePointer<Int32>, N: Int, C: Int
) {
    if let dinp { addInPlace(dinp, dout, count: N * C) }
    if let dwpe {
        for n in 0..<N { addInPlace(dwpe + Int(positions[n]) * C, dout + n * C, count: C) }
    }
}
