// Rotary position embedding (Su et al. 2021) in the rotate-half layout of Hugging Face's Llama and Gemma:
// channel i pairs with channel i + D/2. Dimensions: N rows, heads per row, D head size.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// cos and sin of position · base^(−2i/D) for positions 0..<count and i < D/2, computed as transformers
/// does: inverse frequencies and their product with the position in float32.
public struct RotaryTable: Sendable {
    public let base: Float
    public let headSize: Int
    /// Linear position scaling (transformers' rope_type "linear"): every frequency divided by this factor.
    public let linearScaling: Float
    public private(set) var positions = 0
    private(set) var cosines: [Float] = []  // (positions, D/2)
    private(set) var sines: [Float] = []

    public init(base: Float, headSize: Int, linearScaling: Float = 1) {
        precondition(headSize % 2 == 0, "RoPE needs an even head size")
        self.base = base
        self.headSize = headSize
        self.linearScaling = linearScaling
    }

    public mutating func reserve(positions count: Int) {
        guard count > positions else { return }
        let half = headSize / 2
        let inverse = (0..<half).map { Float(1 / pow(Double(base), Double(2 * $0) / Double(headSize))) / linearScaling }
        for p in positions..<count {
            for i in 0..<half {
                let angle = Double(Float(p) * inverse[i])
                cosines.append(Float(cos(angle)))
                sines.append(Float(sin(angle)))
            }
        }
        positions = count
    }
}

/// In place on x (N, heads·D), row n at positions[n]: (a, b) ← (a·cos − b·sin, b·cos + a·sin).
public func ropeForward(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, table: RotaryTable, N: Int, heads: Int) {
    rotate(x, positions: positions, table: table, N: N, heads: heads, direction: 1)
}

/// In place on dx: the rotation is orthogonal, so its backward is the inverse rotation.
public func ropeBackward(_ dx: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, table: RotaryTable, N: Int, heads: Int) {
    rotate(dx, positions: positions, table: table, N: N, heads: heads, direction: -1)
}

private func rotate(_ x: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, table: RotaryTable,
                    N: Int, heads: Int, direction: Float) {
    let D = table.headSize, half = D / 2
    table.cosines.withUnsafeBufferPointer { cosines in
        table.sines.withUnsafeBufferPointer { sines in
            for n in 0..<N {
                let p = Int(positions[n])
                precondition(p < table.positions, "RoPE table holds \(table.positions) positions, asked for \(p)")
                let c = cosines.baseAddress! + p * half, s = sines.baseAddress! + p * half
                for h in 0..<heads {
                    let a = x + n * heads * D + h * D, b = a + half
                    var i = 0
                    while i + vecWidth <= half {
                        let va = loadVec(a + i), vb = loadVec(b + i), vc = loadVec(c + i), vs = loadVec(s + i) * direction
                        storeVec(va * vc - vb * vs, a + i)
                        storeVec(vb * vc + va * vs, b + i)
                        i += vecWidth
                    }
                    while i < half {
                        let va = a[i], vb = b[i], sn = s[i] * direction
                        a[i] = va * c[i] - vb * sn
                        b[i] = vb * c[i] + va * sn
                        i += 1
                    }
                }
            }
        }
    }
}
