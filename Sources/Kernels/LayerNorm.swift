// LayerNorm over the channel dimension, forward and backward (follows llm.c's layernorm pair).
// Dimensions: N rows, C channels. mean and rstd (N) are saved for the backward.

/// out (N,C) = (inp − mean) · rstd · weight + bias
public func layerNormForward(
    out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
    inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
    N: Int, C: Int, eps: Float
) {
    for n in 0..<N {
        let x = inp + n * C, y = out + n * C
        let (sum, squares) = sumAndSquares(x, count: C)
        let m = sum / Double(C)
        let variance = max(squares / Double(C) - m * m, 0)
        let s = Float(1 / (variance + Double(eps)).squareRoot())
        let mf = Float(m)
        var i = 0
        while i + vecWidth <= C {
            let v = (loadVec(x + i) - mf) * s
            storeVec(v * loadVec(weight + i) + loadVec(bias + i), y + i)
            i += vecWidth
        }
        while i < C { y[i] = (x[i] - mf) * s * weight[i] + bias[i]; i += 1 }
        mean[n] = mf
        rstd[n] = s
    }
}

/// Accumulates dinp (N,C), and when given, dweight (C) and dbias (C).
public func layerNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
) {
    for n in 0..<N {
        let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C
        let m = mean[n], s = rstd[n]
        // Two reductions: mean of dnorm and mean of dnorm·norm, where dnorm = weight·dout.
        var a = Vec(), b = Vec()
        var i = 0
        while i + vecWidth <= C {
            let norm = (loadVec(x + i) - m) * s
            let dnorm = loadVec(weight + i) * loadVec(dy + i)
            a += dnorm
            b += dnorm * norm
            i += vecWidth
        }
        var sumD = 0.0, sumDN = 0.0
        for lane in 0..<vecWidth { sumD += Double(a[lane]); sumDN += Double(b[lane]) }
        while i < C {
            let norm = (x[i] - m) * s, dnorm = weight[i] * dy[i]
            sumD += Double(dnorm); sumDN += Double(dnorm * norm)
            i += 1
        }
        let meanD = Float(sumD / Double(C)), meanDN = Float(sumDN / Double(C))
        i = 0
        while i + vecWidth <= C {
            let norm = (loadVec(x + i) - m) * s
            let dnorm = loadVec(weight + i) * loadVec(dy + i)
            storeVec(loadVec(dx + i) + (dnorm - meanD - norm * meanDN) * s, dx + i)
            if let dweight { storeVec(loadVec(dweight + i) + norm * loadVec(dy + i), dweight + i) }
            if let dbias { storeVec(loadVec(dbias + i) + loadVec(dy + i), dbias + i) }
            i += vecWidth
        }
        while i < C {
            let norm = (x[i] - m) * s, dnorm = weight[i] * dy[i]
            dx[i] += (dnorm - meanD - norm * meanDN) * s
            dweight?[i] += norm * dy[i]
            dbias?[i] += dy[i]
            i += 1
        }
    }
}
