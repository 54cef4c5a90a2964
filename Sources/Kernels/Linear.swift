// Linear layer y = x·W + b through sgemm. Dimensions: N rows, I inputs, O outputs.
// GPT-2 stores W as [I, O] (Conv1D); GGUF models store it as [O, I]: the layout says which.

public enum WeightLayout: Sendable {
    case inputMajor   // W is (I, O): y = x · W
    case outputMajor  // W is (O, I): y = x · Wᵀ
}

/// out (N,O) = inp (N,I) · W + bias (O)
public func linearForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, layout: WeightLayout,
    N: Int, I: Int, O: Int
) {
    if let bias {
        for n in 0..<N { (out + n * O).update(from: bias, count: O) }
    }
    switch layout {
    case .inputMajor:
        sgemm(.none, .none, M: N, N: O, K: I, A: inp, lda: I, B: weight, ldb: O,
              beta: bias == nil ? 0 : 1, C: out, ldc: O)
    case .outputMajor:
        sgemm(.none, .transposed, M: N, N: O, K: I, A: inp, lda: I, B: weight, ldb: I,
              beta: bias == nil ? 0 : 1, C: out, ldc: O)
    }
}

/// Accumulates dinp (N,I) += dout·Wᵀ, and when given, dweight += xᵀ·dout and dbias += Σ dout.
/// Frozen-weight backward passes nil for both and costs one GEMM instead of two.
public func linearBackward(
    dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?,
    dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    layout: WeightLayout, N: Int, I: Int, O: Int
) {
    if let dinp {
        switch layout {
        case .inputMajor:
            sgemm(.none, .transposed, M: N, N: I, K: O, A: dout, lda: O, B: weight, ldb: O,
                  beta: 1, C: dinp, ldc: I)
        case .outputMajor:
            sgemm(.none, .none, M: N, N: I, K: O, A: dout, lda: O, B: weight, ldb: I,
                  beta: 1, C: dinp, ldc: I)
        }
    }
    if let dweight {
        switch layout {
        case .inputMajor:
            sgemm(.transposed, .none, M: I, N: O, K: N, A: inp, lda: I, B: dout, ldb: O,
                  beta: 1, C: dweight, ldc: O)
        case .outputMajor:
            sgemm(.transposed, .none, M: O, N: I, K: N, A: dout, lda: O, B: inp, ldb: I,
                  beta: 1, C: dweight, ldc: I)
        }
    }
    if let dbias {
        for n in 0..<N { addInPlace(dbias, dout + n * O, count: O) }
    }
}
