// Vectorized exp and tanh in SIMD16 (Cephes-style range reduction and polynomial): Swift's scalar
// expf/tanhf are library calls that cost ~17 ns each, which dominated GELU and softmax.

public typealias Vec = SIMD16<Float>
public let vecWidth = 16

/// exp(x) with relative error below 2e-7 for x in [−87.3, 88.37].
@inline(__always)
public func fastExp(_ x: Vec) -> Vec {
    // Clamped so 2ⁿ stays a normal float (n in −126…127): the result saturates at about 1e-38 and 2e38.
    exponential(inRange: clamp(x, -87.3, 88.37))
}

/// exp(x) for x already within [−87.3, 88.37].
@inline(__always)
func exponential(inRange clamped: Vec) -> Vec {
    // x = n·ln2 + r, |r| ≤ ln2/2; ln2 split in two parts so r keeps full precision. Adding 1.5·2²³ rounds
    // x·log2(e) to an integer held in the low mantissa bits: the rounding and the float→int conversion both
    // stay in SIMD registers (the generic SIMD conversion goes element by element).
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    var r = clamped - n * 0.693_359_375
    r = r - n * -2.121_944_4e-4
    var p = Vec(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_6e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    p = p * (r * r) + r + 1
    let integer = unsafeBitCast(shifted, to: SIMD16<Int32>.self) &- 0x4B40_0000
    let scale = unsafeBitCast((integer &+ 127) &<< 23, to: Vec.self)
    return p * scale
}

/// min(max(x, lower), upper), NaN passed through. `replacing(with:where:)` lowers to a compare and a blend per
/// register even on baseline x86-64 (SSE2); bit operations on a bit-cast SIMDMask and the standard library's
/// `clamped`/`pointwiseMin` do not (they cost 3-4× more there and made GELU take 7 ns per element).
@inline(__always)
func clamp(_ x: Vec, _ lower: Float, _ upper: Float) -> Vec {
    x.replacing(with: lower, where: x .< lower).replacing(with: upper, where: x .> upper)
}

/// The larger of a and b per lane (b where either is NaN), in the same lowering-friendly form as `clamp`.
@inline(__always)
func lanewiseMax(_ a: Vec, _ b: Vec) -> Vec {
    b.replacing(with: a, where: a .> b)
}

/// tanh(x) = 1 − 2 / (exp(2x) + 1); exact limits ±1 for large |x|, absolute error ~1e-7.
@inline(__always)
public func fastTanh(_ x: Vec) -> Vec {
    let e = exponential(inRange: 2 * clamp(x, -20, 20))
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
