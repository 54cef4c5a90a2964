// Row softmax and softmax cross-entropy. Dimensions: R rows, V classes (a vocabulary or a subset of it).

/// x ← softmax(x), in place, numerically stable (max subtracted first). Returns log Σ exp(x).
@inline(__always) @discardableResult
public func softmaxRow(_ x: UnsafeMutablePointer<Float>, count: Int) -> Double {
    var maxLanes = Vec(repeating: -.infinity)
    var i = 0
    while i + vecWidth <= count { maxLanes = lanewiseMax(maxLanes, loadVec(x + i)); i += vecWidth }
    var m = maxLanes.max()
    while i < count { m = max(m, x[i]); i += 1 }
    var sumLanes = Vec()
    i = 0
    while i + vecWidth <= count {
        let e = fastExp(loadVec(x + i) - m)
        storeVec(e, x + i)
        sumLanes += e
        i += vecWidth
    }
    var sum = 0.0
    for lane in 0..<vecWidth { sum += Double(sumLanes[lane]) }
    while i < count { let e = fastExp(x[i] - m); x[i] = e; sum += Double(e); i += 1 }
    scaleInPlace(x, Float(1 / sum), count: count)
    return Double(m) + naturalLog(sum)
}

/// In place: given dL/dprobs in dlogits, leaves dL/dlogits = scale · p ⊙ (g − Σ p·g).
@inline(__always)
public func softmaxRowBackward(dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, count: Int, scale: Float) {
    let pg = dot(probs, dlogits, count: count)
    var i = 0
    while i + vecWidth <= count {
        storeVec(loadVec(probs + i) * (loadVec(dlogits + i) - pg) * scale, dlogits + i)
        i += vecWidth
    }
    while i < count { dlogits[i] = probs[i] * (dlogits[i] - pg) * scale; i += 1 }
}

/// probs (R,V) = softmax(logits); losses (R) = −log probs[r, targets[r]].
public func crossEntropyForward(
    losses: UnsafeMutablePointer<Float>, probs: UnsafeMutablePointer<Float>,
    logits: UnsafePointer<Float>, targets: UnsafePointer<Int32>, R: Int, V: Int
) {
    for r in 0..<R {
        let p = probs + r * V
        p.update(from: logits + r * V, count: V)
        // From the log-sum-exp rather than log(p): a tiny target probability keeps its precision.
        let logSumExp = softmaxRow(p, count: V)
        losses[r] = Float(logSumExp - Double(logits[r * V + Int(targets[r])]))
    }
}

/// dlogits (R,V) += (probs − onehot(target)) · dlosses[r]
public func crossEntropyBackward(
    dlogits: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>,
    dlosses: UnsafePointer<Float>, R: Int, V: Int
) {
    for r in 0..<R {
        let d = dlogits + r * V, p = probs + r * V, w = dlosses[r]
        var i = 0
        while i + vecWidth <= V {
            storeVec(loadVec(d + i) + loadVec(p + i) * w, d + i)
            i += vecWidth
        }
        while i < V { d[i] += p[i] * w; i += 1 }
        d[Int(targets[r])] -= w
    }
}
