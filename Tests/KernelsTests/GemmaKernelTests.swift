// RMSNorm, RoPE and GeGLU (Gemma's kernels): reference backward against finite differences in Double
// (tolerance 1e-6, as in ReferenceGradientTests), optimized Float against reference (1e-5, as in KernelParityTests).
import Testing
import Kernels
import TestSupport

@Suite struct GemmaKernelTests {
    @Test func rmsNorm() {
        let (N, C) = (3, 37)
        let x = randomArray(N * C, seed: 1, scale: 2), w = randomArray(C, seed: 2), dy = randomArray(N * C, seed: 3)
        let (dxRef, dwRef) = Reference.rmsNormBackward(dy.doubles, x.doubles, w.doubles, N: N, C: C, eps: 1e-6)
        let f = { (x: [Double], w: [Double]) in weightedSum(Reference.rmsNorm(x, w, N: N, C: C, eps: 1e-6), dy.doubles) }
        #expect(relativeError(dxRef, numericalGradient(x.doubles) { f($0, w.doubles) }) < 1e-6)
        #expect(relativeError(dwRef, numericalGradient(w.doubles) { f(x.doubles, $0) }) < 1e-6)

        let out = FloatBuffer(count: N * C), rstd = FloatBuffer(count: N)
        let dx = FloatBuffer(count: N * C), dw = FloatBuffer(count: C)
        let (X, W, DY) = (FloatBuffer(x), FloatBuffer(w), FloatBuffer(dy))
        rmsNormForward(out: out.pointer, rstd: rstd.pointer, inp: X.pointer, weight: W.pointer, N: N, C: C, eps: 1e-6)
        rmsNormBackward(dinp: dx.pointer, dweight: dw.pointer, dout: DY.pointer, inp: X.pointer, weight: W.pointer,
                        rstd: rstd.pointer, N: N, C: C)
        #expect(relativeError(out.array.doubles, Reference.rmsNorm(x.doubles, w.doubles, N: N, C: C, eps: 1e-6)) < 1e-5)
        #expect(relativeError(dx.array.doubles, dxRef) < 1e-5)
        #expect(relativeError(dw.array.doubles, dwRef) < 1e-5)
    }

    @Test(arguments: [10_000.0, 1_000_000.0])
    func rope(base: Double) {
        let (N, heads, D) = (4, 2, 40)
        let positions: [Int32] = [0, 1, 7, 300]
        let x = randomArray(N * heads * D, seed: 4), dy = randomArray(N * heads * D, seed: 5)
        let dxRef = Reference.ropeBackward(dy.doubles, positions: positions, base: base, heads: heads, D: D)
        let numeric = numericalGradient(x.doubles) {
            weightedSum(Reference.rope($0, positions: positions, base: base, heads: heads, D: D), dy.doubles)
        }
        #expect(relativeError(dxRef, numeric) < 1e-6)

        var table = RotaryTable(base: Float(base), headSize: D)
        table.reserve(positions: 301)
        let X = FloatBuffer(x), DX = FloatBuffer(dy)
        positions.withUnsafeBufferPointer { p in
            ropeForward(X.pointer, positions: p.baseAddress!, table: table, N: N, heads: heads)
            ropeBackward(DX.pointer, positions: p.baseAddress!, table: table, N: N, heads: heads)
        }
        // Angles reach 300 rad: float32 rounding of position·frequency (as transformers computes it) moves
        // them by up to ~1.5e-5 rad, so this comparison allows 3e-5.
        #expect(relativeError(X.array.doubles, Reference.rope(x.doubles, positions: positions, base: base, heads: heads, D: D)) < 3e-5)
        #expect(relativeError(DX.array.doubles, dxRef) < 3e-5)
    }

    /// The gated activations, GeGLU (Gemma) and SwiGLU (Llama, Qwen2): each reference against central differences,
    /// the float32 kernels against the reference (1e-5: float32 with a 2e-7 exp/tanh).
    enum Gate: String, CaseIterable {
        case geglu, swiglu
        func reference(_ gate: [Double], _ up: [Double]) -> [Double] {
            self == .geglu ? Reference.geglu(gate: gate, up: up) : Reference.swiglu(gate: gate, up: up)
        }
        func referenceBackward(_ dy: [Double], _ gate: [Double], _ up: [Double]) -> (dgate: [Double], dup: [Double]) {
            self == .geglu ? Reference.gegluBackward(dy, gate: gate, up: up) : Reference.swigluBackward(dy, gate: gate, up: up)
        }
        func forward(_ out: UnsafeMutablePointer<Float>, _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ count: Int) {
            self == .geglu ? gegluForward(out: out, gate: gate, up: up, count: count) : swigluForward(out: out, gate: gate, up: up, count: count)
        }
        func backward(_ dgate: UnsafeMutablePointer<Float>, _ dup: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>,
                      _ gate: UnsafePointer<Float>, _ up: UnsafePointer<Float>, _ count: Int) {
            if self == .geglu {
                gegluBackward(dgate: dgate, dup: dup, dout: dout, gate: gate, up: up, count: count)
            } else {
                swigluBackward(dgate: dgate, dup: dup, dout: dout, gate: gate, up: up, count: count)
            }
        }
    }

    @Test(arguments: Gate.allCases)
    func gatedActivation(_ kind: Gate) {
        let count = 45
        let gate = randomArray(count, seed: 6, scale: 3), up = randomArray(count, seed: 7), dy = randomArray(count, seed: 8)
        let ref = kind.referenceBackward(dy.doubles, gate.doubles, up.doubles)
        #expect(relativeError(ref.dgate, numericalGradient(gate.doubles) { weightedSum(kind.reference($0, up.doubles), dy.doubles) }) < 1e-6)
        #expect(relativeError(ref.dup, numericalGradient(up.doubles) { weightedSum(kind.reference(gate.doubles, $0), dy.doubles) }) < 1e-6)

        let out = FloatBuffer(count: count), dgate = FloatBuffer(count: count), dup = FloatBuffer(count: count)
        let (G, U, DY) = (FloatBuffer(gate), FloatBuffer(up), FloatBuffer(dy))
        kind.forward(out.pointer, G.pointer, U.pointer, count)
        kind.backward(dgate.pointer, dup.pointer, DY.pointer, G.pointer, U.pointer, count)
        #expect(relativeError(out.array.doubles, kind.reference(gate.doubles, up.doubles)) < 1e-5)
        #expect(relativeError(dgate.array.doubles, ref.dgate) < 1e-5)
        #expect(relativeError(dup.array.doubles, ref.dup) < 1e-5)
    }

    @Test func linearRopeScalingDividesPositions() {
        // transformers' "linear" rope type divides every frequency by the factor: position p at factor 2 is
        // position p/2 unscaled. Even positions under factor 2 equal half positions in an unscaled table.
        let (D, heads, N) = (8, 2, 4)
        var scaled = RotaryTable(base: 10_000, headSize: D, linearScaling: 2), plain = RotaryTable(base: 10_000, headSize: D)
        scaled.reserve(positions: 16); plain.reserve(positions: 16)
        let x = randomArray(N * heads * D, seed: 12)
        let A = FloatBuffer(x), B = FloatBuffer(x)
        let even: [Int32] = [0, 2, 6, 14], half: [Int32] = [0, 1, 3, 7]
        even.withUnsafeBufferPointer { ropeForward(A.pointer, positions: $0.baseAddress!, table: scaled, N: N, heads: heads) }
        half.withUnsafeBufferPointer { ropeForward(B.pointer, positions: $0.baseAddress!, table: plain, N: N, heads: heads) }
        #expect(relativeError(A.array.doubles, B.array.doubles) < 1e-6)
        #expect(relativeError(A.array.doubles, x.doubles) > 1e-2)
    }

    @Test func cachedAttentionMatchesFullAttention() {
        // Decoding 3 new queries against a cache of 5 past positions equals the last 3 rows of full attention.
        let shape = AttentionShape(heads: 4, kvHeads: 2, headSize: 6, scale: 0.4, window: 4)
        let (T, H, G, D) = (8, 4, 2, 6)
        let q = randomArray(T * H * D, seed: 9), k = randomArray(T * G * D, seed: 10), v = randomArray(T * G * D, seed: 11)
        let full = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, batch: RaggedBatch(lengths: [T]), shape: shape)
        let Q = FloatBuffer(Array(q[(5 * H * D)...])), K = FloatBuffer(k), V = FloatBuffer(v)
        let out = FloatBuffer(count: 3 * H * D), scores = FloatBuffer(count: 3 * T)
        cachedAttentionForward(out: HeadMatrix(out.pointer, stride: H * D), scores: scores.pointer,
                               q: HeadMatrix(Q.pointer, stride: H * D), kCache: HeadMatrix(K.pointer, stride: G * D),
                               vCache: HeadMatrix(V.pointer, stride: G * D), past: 5, count: 3, shape: shape)
        #expect(relativeError(out.array.doubles, Array(full[(5 * H * D)...])) < 1e-5)
    }
}
