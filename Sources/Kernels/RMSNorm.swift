// RMSNorm (Zhang & Sennrich 2019) as Gemma uses it: y = x / √(mean(x²) + eps) · w. Gemma's `(1 + w)` is
// already folded into w by the GGUF converter. Dimensions: N rows, C channels; rstd (N) kept for backward.

/// out (N,C) = inp · rstd · weight
public func rmsNormForward(
    out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, eps: Float
) {
    for n in 0..<N {
        let x = inp + n * C, y = out + n * C
        let (_, squares) = sumAndSquares(x, count: C)
        let s = Float(1 / (squares / Double(C) + Double(eps)).squareRoot())
        var i = 0
        while i + vecWidth <= C {
            storeVec(loadVec(x + i) * s * loadVec(weight + i), y + i)
            i += vecWidth
        }
        while i < C { y[i] = x[i] * s * weight[i]; i += 1 }
        rstd[n] = s
    }
}

/// Accumulates dinp (N,C) and, when given, dweight (C).
public func rmsNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    rstd: UnsafePointer<Float>, N: Int, C: Int
) {
    for n in 0..<N {
        let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C, s = rstd[n]
        // dx = s · (w·dy − norm · mean(w·dy·norm)), norm = x·s
        var acc = Vec()
        var i = 0
        while i + vecWidth <= C {
            acc += loadVec(weight + i) * loadVec(dy + i) * loadVec(x + i) * s
            i += vecWidth
        }
        var total = 0.0
        for lane in 0..<vecWidth { total += Double(acc[lane]) }
        while i < C { total += Double(weight[i] * dy[i] * x[i] * s); i += 1 }
        let meanDN = Float(total / Double(C))
        i = 0
        while i + vecWidth <= C {
            let norm = loadVec(x + i) * s
            storeVec(loadVec(dx + i) + (loadVec(weight + i) * loadVec(dy + i) - norm * meanDN) * s, dx + i)
            if let dweight { storeVec(loadVec(dweight + i) + norm * loadVec(dy + i), dweight + i) }
            i += vecWidth
        }
        while i < C {
            let norm = x[i] * s
            dx[i] += (weight[i] * dy[i] - norm * meanDN) * s
            dweight?[i] += norm * dy[i]
            i += 1
        }
    }
}
