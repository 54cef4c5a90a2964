// Vectorized exp and tanh in SIMD16 (Cephes-style range reduction and polynomial): Swift's scalar
// expf/tanhf are library calls that cost ~17 ns each, which dominated GELU and softmax.

public typealias Vec = SIMD16<Float>
public let vecWidth = 16

/// exp(x) with relative error below 2e-7 over the float range; saturates to 0 and +inf.
@inline(__always)
public func fastExp(_ x: Vec) -> Vec {
    let clamped = x.clamped(lowerBound: Vec(repeating: -87.3), upperBound: Vec(repeating: 88.7))
    // x = n·ln2 + r, |r| ≤ ln2/2; ln2 split in two parts so r keeps full precision.
    let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
    var r = clamped - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = Vec(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    let exponent = (SIMD16<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
    let scale = unsafeBitCast(exponent, to: Vec.self)
    var result = p * scale
    result.replace(with: 0, where: x .< -87.3)
    result.replace(with: .infinity, where: x .> 88.7)
    return result
}

/// tanh(x) = 1 − 2 / (exp(2x) + 1); exact limits ±1 for large |x|, absolute error ~1e-7.
@inline(__always)
public func fastTanh(_ x: Vec) -> Vec {
    let e = fastExp(2 * x.clamped(lowerBound: Vec(repeating: -20), upperBound: Vec(repeating: 20)))
    return 1 - 2 / (e + 1)
}

/// Scalar forms for loop tails, through the same SIMD code so head and tail agree.
@inline(__always)
public func fastExp(_ x: Float) -> Float { fastExp(Vec(repeating: x))[0] }

@inline(__always)
public func fastTanh(_ x: Float) -> Float { fastTanh(Vec(repeating: x))[0] }

@inline(__always)
func loadVec(_ p: UnsafePointer<Float>) -> Vec {
    UnsafeRawPointer(p).loadUnaligned(as: Vec.self)
}

@inline(__always)
func storeVec(_ v: Vec, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: Vec.self)
}
