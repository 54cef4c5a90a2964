// Helpers shared by the test targets: seeded random data, finite differences, and closeness checks.
import Kernels

public func randomArray(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return (0..<count).map { _ in rng.nextNormal() * scale }
}

/// Central differences of a scalar function, in Double: the ground truth for every backward.
public func numericalGradient(_ x: [Double], step: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var x = x
    return (0..<x.count).map { i in
        let saved = x[i]
        x[i] = saved + step; let up = f(x)
        x[i] = saved - step; let down = f(x)
        x[i] = saved
        return (up - down) / (2 * step)
    }
}

/// Largest |a − b| relative to the largest |b| (with a floor, so all-zero references compare absolutely).
public func relativeError<F: BinaryFloatingPoint>(_ a: [F], _ b: [F]) -> Double {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    var worst = 0.0, scale = 0.0
    for (x, y) in zip(a, b) {
        worst = max(worst, abs(Double(x) - Double(y)))
        scale = max(scale, abs(Double(y)))
    }
    return worst / max(scale, 1e-6)
}

public func maxAbsDifference<F: BinaryFloatingPoint>(_ a: [F], _ b: [F]) -> Double {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) vs \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs(Double($1.0) - Double($1.1))) }
}

/// Σ y ⊙ weights: turns a vector output into a scalar whose gradient with respect to y is `weights`.
public func weightedSum(_ y: [Double], _ weights: [Double]) -> Double {
    zip(y, weights).reduce(0) { $0 + $1.0 * $1.1 }
}

public extension Array where Element == Float {
    var doubles: [Double] { map(Double.init) }
}

public extension Array where Element == Double {
    var floats: [Float] { map(Float.init) }
}
