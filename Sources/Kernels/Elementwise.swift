// Residual adds and other elementwise helpers, vectorized with explicit SIMD16.

/// out[i] = a[i] + b[i]
public func addForward(out: UnsafeMutablePointer<Float>, a: UnsafePointer<Float>, b: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        storeVec(loadVec(a + i) + loadVec(b + i), out + i)
        i += vecWidth
    }
    while i < count { out[i] = a[i] + b[i]; i += 1 }
}

/// The residual add's backward: both inputs receive dout; callers accumulate with addInPlace.
/// y[i] += x[i]
public func addInPlace(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        storeVec(loadVec(y + i) + loadVec(x + i), y + i)
        i += vecWidth
    }
    while i < count { y[i] += x[i]; i += 1 }
}

/// y[i] += a·x[i]
public func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        storeVec(loadVec(y + i) + a * loadVec(x + i), y + i)
        i += vecWidth
    }
    while i < count { y[i] += a * x[i]; i += 1 }
}

/// y[i] *= s
public func scaleInPlace(_ y: UnsafeMutablePointer<Float>, _ s: Float, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        storeVec(loadVec(y + i) * s, y + i)
        i += vecWidth
    }
    while i < count { y[i] *= s; i += 1 }
}

/// Σ x[i]·y[i] with sixteen float lanes; lane sums are added in Double.
public func dot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, count: Int) -> Float {
    var acc = Vec()
    var i = 0
    while i + vecWidth <= count {
        acc += loadVec(x + i) * loadVec(y + i)
        i += vecWidth
    }
    var total = 0.0
    for lane in 0..<vecWidth { total += Double(acc[lane]) }
    while i < count { total += Double(x[i]) * Double(y[i]); i += 1 }
    return Float(total)
}

/// Σ x[i] and Σ x[i]² with sixteen float lanes each.
@inline(__always)
func sumAndSquares(_ x: UnsafePointer<Float>, count: Int) -> (Double, Double) {
    var s = Vec(), q = Vec()
    var i = 0
    while i + vecWidth <= count {
        let v = loadVec(x + i)
        s += v
        q += v * v
        i += vecWidth
    }
    var sum = 0.0, squares = 0.0
    for lane in 0..<vecWidth { sum += Double(s[lane]); squares += Double(q[lane]) }
    while i < count { sum += Double(x[i]); squares += Double(x[i]) * Double(x[i]); i += 1 }
    return (sum, squares)
}
