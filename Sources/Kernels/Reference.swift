// Plain reference kernels: direct loops over arrays, generic in the float type so tests can run them in
// Double for finite differences and compare them with the optimized Float kernels (llm.c's naive twins).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum Reference {
    // MARK: Linear: x (N,I), W (I,O) or (O,I), b (O)

    @inline(__always)
    static func weightAt<F: BinaryFloatingPoint>(_ w: [F], _ i: Int, _ o: Int, _ layout: WeightLayout, I: Int, O: Int) -> F {
        layout == .inputMajor ? w[i * O + o] : w[o * I + i]
    }

    public static func linear<F: BinaryFloatingPoint>(_ x: [F], _ w: [F], _ b: [F]?, layout: WeightLayout, N: Int, I: Int, O: Int) -> [F] {
        var y = [F](repeating: 0, count: N * O)
        for n in 0..<N {
            for o in 0..<O {
                var s = b?[o] ?? 0
                for i in 0..<I { s += x[n * I + i] * weightAt(w, i, o, layout, I: I, O: O) }
                y[n * O + o] = s
            }
        }
        return y
    }

    public static func linearBackward<F: BinaryFloatingPoint>(
        _ dy: [F], _ x: [F], _ w: [F], layout: WeightLayout, N: Int, I: Int, O: Int
    ) -> (dx: [F], dw: [F], db: [F]) {
        var dx = [F](repeating: 0, count: N * I), dw = [F](repeating: 0, count: I * O), db = [F](repeating: 0, count: O)
        for n in 0..<N {
            for o in 0..<O {
                let g = dy[n * O + o]
                db[o] += g
                for i in 0..<I {
                    dx[n * I + i] += g * weightAt(w, i, o, layout, I: I, O: O)
                    dw[layout == .inputMajor ? i * O + o : o * I + i] += g * x[n * I + i]
                }
            }
        }
        return (dx, dw, db)
    }

    // MARK: LayerNorm: x (N,C), weight and bias (C)

    public static func layerNorm<F: BinaryFloatingPoint>(_ x: [F], _ w: [F], _ b: [F], N: Int, C: Int, eps: F) -> [F] {
        var y = [F](repeating: 0, count: N * C)
        for n in 0..<N {
            let row = x[(n * C)..<(n * C + C)]
            let mean = row.reduce(0, +) / F(C)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / F(C)
            let rstd = 1 / (variance + eps).squareRoot()
            for c in 0..<C { y[n * C + c] = (x[n * C + c] - mean) * rstd * w[c] + b[c] }
        }
        return y
    }

    public static func layerNormBackward<F: BinaryFloatingPoint>(
        _ dy: [F], _ x: [F], _ w: [F], N: Int, C: Int, eps: F
    ) -> (dx: [F], dw: [F], db: [F]) {
        var dx = [F](repeating: 0, count: N * C), dw = [F](repeating: 0, count: C), db = [F](repeating: 0, count: C)
        for n in 0..<N {
            let row = Array(x[(n * C)..<(n * C + C)])
            let mean = row.reduce(0, +) / F(C)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / F(C)
            let rstd = 1 / (variance + eps).squareRoot()
            let norm = row.map { ($0 - mean) * rstd }
            let dnorm = (0..<C).map { w[$0] * dy[n * C + $0] }
            let meanD = dnorm.reduce(0, +) / F(C)
            let meanDN = zip(dnorm, norm).reduce(0) { $0 + $1.0 * $1.1 } / F(C)
            for c in 0..<C {
                dx[n * C + c] = (dnorm[c] - meanD - norm[c] * meanDN) * rstd
                dw[c] += norm[c] * dy[n * C + c]
                db[c] += dy[n * C + c]
            }
        }
        return (dx, dw, db)
    }

    // MARK: GELU, tanh form

    public static func gelu<F: BinaryFloatingPoint>(_ x: [F]) -> [F] {
        x.map { v in
            let d = Double(v)
            return F(0.5 * d * (1 + tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d))))
        }
    }

    public static func geluBackward<F: BinaryFloatingPoint>(_ dy: [F], _ x: [F]) -> [F] {
        zip(dy, x).map { g, v in
            let d = Double(v), s = (2 / Double.pi).squareRoot()
            let t = tanh(s * (d + 0.044715 * d * d * d))
            return g * F(0.5 * (1 + t) + 0.5 * d * (1 - t * t) * s * (1 + 3 * 0.044715 * d * d))
        }
    }

    // MARK: Causal attention: q (N, H·D), k and v (N, G·D), over a ragged batch

    public static func attention<F: BinaryFloatingPoint>(
        q: [F], k: [F], v: [F], batch: RaggedBatch, shape: AttentionShape
    ) -> [F] {
        let H = shape.heads, G = shape.kvHeads, D = shape.headSize
        var out = [F](repeating: 0, count: batch.tokenCount * H * D)
        for segment in batch.attentionSegments {
            for h in 0..<H {
                let g = h / (H / G)
                for i in 0..<segment.length {
                    let qi = (segment.row + i) * H * D + h * D
                    for (key, pj) in probabilities(q: q, k: k, segment: segment, i: i, h: h, g: g, shape: shape) {
                        for d in 0..<D { out[qi + d] += pj * v[key * G * D + g * D + d] }
                    }
                }
            }
        }
        return out
    }

    public static func attentionBackward<F: BinaryFloatingPoint>(
        _ dout: [F], q: [F], k: [F], v: [F], batch: RaggedBatch, shape: AttentionShape
    ) -> (dq: [F], dk: [F], dv: [F]) {
        let H = shape.heads, G = shape.kvHeads, D = shape.headSize, scale = F(shape.scale)
        var dq = [F](repeating: 0, count: q.count), dk = [F](repeating: 0, count: k.count), dv = [F](repeating: 0, count: v.count)
        for segment in batch.attentionSegments {
            for h in 0..<H {
                let g = h / (H / G)
                for i in 0..<segment.length {
                    let p = probabilities(q: q, k: k, segment: segment, i: i, h: h, g: g, shape: shape)
                    let qi = (segment.row + i) * H * D + h * D
                    var dp: [(Int, F)] = []
                    for (key, pj) in p {
                        var s: F = 0
                        for d in 0..<D {
                            s += dout[qi + d] * v[key * G * D + g * D + d]
                            dv[key * G * D + g * D + d] += pj * dout[qi + d]
                        }
                        dp.append((key, s))
                    }
                    let weighted = zip(p, dp).reduce(F(0)) { $0 + $1.0.1 * $1.1.1 }
                    for ((key, pj), (_, g1)) in zip(p, dp) {
                        let ds = pj * (g1 - weighted) * scale
                        for d in 0..<D {
                            dq[qi + d] += ds * k[key * G * D + g * D + d]
                            dk[key * G * D + g * D + d] += ds * q[qi + d]
                        }
                    }
                }
            }
        }
        return (dq, dk, dv)
    }

    /// The packed rows of the keys query i of a segment may see, with their probabilities.
    static func probabilities<F: BinaryFloatingPoint>(
        q: [F], k: [F], segment: AttentionSegment, i: Int, h: Int, g: Int, shape: AttentionShape
    ) -> [(Int, F)] {
        let H = shape.heads, G = shape.kvHeads, D = shape.headSize
        let position = segment.sharedRows + i
        let keys = (shape.firstKey(position)...position).map(segment.keyRow)
        let scores: [Double] = keys.map { key in
            var s: F = 0
            for d in 0..<D { s += q[(segment.row + i) * H * D + h * D + d] * k[key * G * D + g * D + d] }
            return Double(s) * Double(shape.scale)
        }
        let m = scores.max()!
        let e = scores.map { exp($0 - m) }
        let total = e.reduce(0, +)
        return zip(keys, e).map { ($0, F($1 / total)) }
    }

    // MARK: Softmax cross-entropy: logits (R,V), targets (R)

    public static func crossEntropy<F: BinaryFloatingPoint>(_ logits: [F], targets: [Int32], V: Int) -> [F] {
        targets.enumerated().map { r, t in
            let row = logits[(r * V)..<(r * V + V)].map(Double.init)
            let m = row.max()!
            return F(m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[Int(t)])
        }
    }

    public static func crossEntropyBackward<F: BinaryFloatingPoint>(_ dlosses: [F], _ logits: [F], targets: [Int32], V: Int) -> [F] {
        var d = [F](repeating: 0, count: logits.count)
        for (r, t) in targets.enumerated() {
            let row = logits[(r * V)..<(r * V + V)].map(Double.init)
            let m = row.max()!
            let e = row.map { exp($0 - m) }
            let total = e.reduce(0, +)
            for j in 0..<V { d[r * V + j] = dlosses[r] * (F(e[j] / total) - (j == Int(t) ? 1 : 0)) }
        }
        return d
    }

    // MARK: RMSNorm: x (N,C), weight (C)

    public static func rmsNorm<F: BinaryFloatingPoint>(_ x: [F], _ w: [F], N: Int, C: Int, eps: F) -> [F] {
        var y = [F](repeating: 0, count: N * C)
        for n in 0..<N {
            let meanSquare = x[(n * C)..<(n * C + C)].reduce(0) { $0 + $1 * $1 } / F(C)
            let rstd = 1 / (meanSquare + eps).squareRoot()
            for c in 0..<C { y[n * C + c] = x[n * C + c] * rstd * w[c] }
        }
        return y
    }

    public static func rmsNormBackward<F: BinaryFloatingPoint>(_ dy: [F], _ x: [F], _ w: [F], N: Int, C: Int, eps: F) -> (dx: [F], dw: [F]) {
        var dx = [F](repeating: 0, count: N * C), dw = [F](repeating: 0, count: C)
        for n in 0..<N {
            let meanSquare = x[(n * C)..<(n * C + C)].reduce(0) { $0 + $1 * $1 } / F(C)
            let rstd = 1 / (meanSquare + eps).squareRoot()
            let meanDN = (0..<C).reduce(F(0)) { $0 + w[$1] * dy[n * C + $1] * x[n * C + $1] * rstd } / F(C)
            for c in 0..<C {
                dx[n * C + c] = (w[c] * dy[n * C + c] - x[n * C + c] * rstd * meanDN) * rstd
                dw[c] += x[n * C + c] * rstd * dy[n * C + c]
            }
        }
        return (dx, dw)
    }

    // MARK: RoPE, rotate-half layout: x (N, heads·D)

    public static func rope<F: BinaryFloatingPoint>(_ x: [F], positions: [Int32], base: Double, heads: Int, D: Int) -> [F] {
        var y = x
        let half = D / 2
        for (n, p) in positions.enumerated() {
            for h in 0..<heads {
                for i in 0..<half {
                    let angle = Double(p) * pow(base, -Double(2 * i) / Double(D))
                    let a = x[n * heads * D + h * D + i], b = x[n * heads * D + h * D + i + half]
                    y[n * heads * D + h * D + i] = a * F(cos(angle)) - b * F(sin(angle))
                    y[n * heads * D + h * D + i + half] = b * F(cos(angle)) + a * F(sin(angle))
                }
            }
        }
        return y
    }

    public static func ropeBackward<F: BinaryFloatingPoint>(_ dy: [F], positions: [Int32], base: Double, heads: Int, D: Int) -> [F] {
        // The transpose of a rotation is the rotation by the opposite angle: rope at −position.
        rope(dy, positions: positions.map { -$0 }, base: base, heads: heads, D: D)
    }

    // MARK: GeGLU

    public static func geglu<F: BinaryFloatingPoint>(gate: [F], up: [F]) -> [F] {
        zip(gelu(gate), up).map { $0 * $1 }
    }

    public static func gegluBackward<F: BinaryFloatingPoint>(_ dy: [F], gate: [F], up: [F]) -> (dgate: [F], dup: [F]) {
        let dgate = geluBackward(zip(dy, up).map { $0 * $1 }, gate)
        return (dgate, zip(dy, gelu(gate)).map { $0 * $1 })
    }

    /// silu(x) = x / (1 + e^(−x)), in Double.
    public static func silu(_ x: [Double]) -> [Double] { x.map { $0 / (1 + exp(-$0)) } }

    public static func swiglu(gate: [Double], up: [Double]) -> [Double] {
        zip(silu(gate), up).map { $0 * $1 }
    }

    public static func swigluBackward(_ dy: [Double], gate: [Double], up: [Double]) -> (dgate: [Double], dup: [Double]) {
        let dgate = gate.indices.map { i -> Double in
            let s = 1 / (1 + exp(-gate[i]))
            return s * (1 + gate[i] * (1 - s)) * up[i] * dy[i]
        }
        return (dgate, zip(dy, silu(gate)).map { $0 * $1 })
    }
}
