// Finite-difference checks, in Double, of every reference backward: the reference kernels are then the
// yardstick for the optimized ones. Tolerance 1e-6 relative: central differences with step 1e-6 in Double
// carry truncation error ~1e-12 and rounding error ~1e-10 relative to these O(1) values.
import Testing
import Kernels
import TestSupport

@Suite struct ReferenceGradientTests {
    let tolerance = 1e-6

    @Test(arguments: [WeightLayout.inputMajor, .outputMajor])
    func linear(layout: WeightLayout) {
        let (N, I, O) = (3, 5, 4)
        let x = randomArray(N * I, seed: 1).doubles, w = randomArray(I * O, seed: 2).doubles
        let b = randomArray(O, seed: 3).doubles, r = randomArray(N * O, seed: 4).doubles
        let (dx, dw, db) = Reference.linearBackward(r, x, w, layout: layout, N: N, I: I, O: O)
        let f = { (x: [Double], w: [Double], b: [Double]) in
            weightedSum(Reference.linear(x, w, b, layout: layout, N: N, I: I, O: O), r)
        }
        #expect(relativeError(dx, numericalGradient(x) { f($0, w, b) }) < tolerance)
        #expect(relativeError(dw, numericalGradient(w) { f(x, $0, b) }) < tolerance)
        #expect(relativeError(db, numericalGradient(b) { f(x, w, $0) }) < tolerance)
    }

    @Test func layerNorm() {
        let (N, C) = (3, 7)
        let x = randomArray(N * C, seed: 5).doubles, w = randomArray(C, seed: 6).doubles
        let b = randomArray(C, seed: 7).doubles, r = randomArray(N * C, seed: 8).doubles
        let (dx, dw, db) = Reference.layerNormBackward(r, x, w, N: N, C: C, eps: 1e-5)
        let f = { (x: [Double], w: [Double], b: [Double]) in
            weightedSum(Reference.layerNorm(x, w, b, N: N, C: C, eps: 1e-5), r)
        }
        #expect(relativeError(dx, numericalGradient(x) { f($0, w, b) }) < tolerance)
        #expect(relativeError(dw, numericalGradient(w) { f(x, $0, b) }) < tolerance)
        #expect(relativeError(db, numericalGradient(b) { f(x, w, $0) }) < tolerance)
    }

    @Test func gelu() {
        let x = randomArray(40, seed: 9, scale: 3).doubles, r = randomArray(40, seed: 10).doubles
        let dx = Reference.geluBackward(r, x)
        #expect(relativeError(dx, numericalGradient(x) { weightedSum(Reference.gelu($0), r) }) < tolerance)
    }

    @Test(arguments: [
        AttentionShape(heads: 2, kvHeads: 2, headSize: 3, scale: 0.5),
        AttentionShape(heads: 4, kvHeads: 1, headSize: 2, scale: 0.7, window: 2),
    ])
    func attention(shape: AttentionShape) {
        let batch = RaggedBatch(lengths: [3, 1, 4])
        let N = batch.tokenCount, H = shape.heads, G = shape.kvHeads, D = shape.headSize
        let q = randomArray(N * H * D, seed: 11).doubles, k = randomArray(N * G * D, seed: 12).doubles
        let v = randomArray(N * G * D, seed: 13).doubles, r = randomArray(N * H * D, seed: 14).doubles
        let (dq, dk, dv) = Reference.attentionBackward(r, q: q, k: k, v: v, batch: batch, shape: shape)
        let f = { (q: [Double], k: [Double], v: [Double]) in
            weightedSum(Reference.attention(q: q, k: k, v: v, batch: batch, shape: shape), r)
        }
        #expect(relativeError(dq, numericalGradient(q) { f($0, k, v) }) < tolerance)
        #expect(relativeError(dk, numericalGradient(k) { f(q, $0, v) }) < tolerance)
        #expect(relativeError(dv, numericalGradient(v) { f(q, k, $0) }) < tolerance)
    }

    @Test func crossEntropy() {
        let (R, V) = (3, 6)
        let logits = randomArray(R * V, seed: 15, scale: 2).doubles
        let targets: [Int32] = [0, 5, 2], r = randomArray(R, seed: 16).doubles
        let d = Reference.crossEntropyBackward(r, logits, targets: targets, V: V)
        let numeric = numericalGradient(logits) { weightedSum(Reference.crossEntropy($0, targets: targets, V: V), r) }
        #expect(relativeError(d, numeric) < tolerance)
    }
}
