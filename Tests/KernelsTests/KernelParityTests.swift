// Optimized Float kernels against the plain reference kernels (run in Double). Tolerances: 1e-5 relative
// to the largest value — float32 rounding over reductions of at most a few hundred terms (~√n·6e-8) plus the
// polynomial exp/tanh (relative error < 2e-7). Backward kernels must accumulate, so gradient buffers start
// non-zero and the check subtracts that start.
import Testing
import Kernels
import TestSupport

func withBuffers<R>(_ arrays: [[Float]], _ body: ([FloatBuffer]) -> R) -> R {
    body(arrays.map(FloatBuffer.init))
}

@Suite struct KernelParityTests {
    let tolerance = 1e-5

    @Test(arguments: [WeightLayout.inputMajor, .outputMajor])
    func linear(layout: WeightLayout) {
        let (N, I, O) = (5, 33, 19)
        let x = randomArray(N * I, seed: 1), w = randomArray(I * O, seed: 2), b = randomArray(O, seed: 3)
        let dy = randomArray(N * O, seed: 4)
        let start = (dx: randomArray(N * I, seed: 5), dw: randomArray(I * O, seed: 6), db: randomArray(O, seed: 7))
        let out = FloatBuffer(count: N * O)
        let (X, W, B, DY) = (FloatBuffer(x), FloatBuffer(w), FloatBuffer(b), FloatBuffer(dy))
        let (DX, DW, DB) = (FloatBuffer(start.dx), FloatBuffer(start.dw), FloatBuffer(start.db))
        linearForward(out: out.pointer, inp: X.pointer, weight: W.pointer, bias: B.pointer, layout: layout, N: N, I: I, O: O)
        linearBackward(dinp: DX.pointer, dweight: DW.pointer, dbias: DB.pointer, dout: DY.pointer, inp: X.pointer,
                       weight: W.pointer, layout: layout, N: N, I: I, O: O)
        let reference = Reference.linear(x.doubles, w.doubles, b.doubles, layout: layout, N: N, I: I, O: O)
        let grads = Reference.linearBackward(dy.doubles, x.doubles, w.doubles, layout: layout, N: N, I: I, O: O)
        #expect(relativeError(out.array.doubles, reference) < tolerance)
        #expect(relativeError(zip(DX.array, start.dx).map { Double($0 - $1) }, grads.dx) < tolerance)
        #expect(relativeError(zip(DW.array, start.dw).map { Double($0 - $1) }, grads.dw) < tolerance)
        #expect(relativeError(zip(DB.array, start.db).map { Double($0 - $1) }, grads.db) < tolerance)
    }

    /// A single row (decoding) goes through sgemv: every transpose combination, with strides, alpha and beta,
    /// against the sum written out in Double.
    @Test(arguments: [(Transpose.none, Transpose.none), (.none, .transposed), (.transposed, .none), (.transposed, .transposed)])
    func oneRowProducts(transA: Transpose, transB: Transpose) {
        let (K, N, lda, ldb) = (37, 23, 3, 41)  // A (1, K) or, transposed, (K, 1) with lda; B with ldb ≥ its row
        let a = randomArray(transA == .none ? K : K * lda, seed: 8), b = randomArray((transB == .none ? K : N) * ldb, seed: 9)
        let c0 = randomArray(N, seed: 10)
        let (A, B, C) = (FloatBuffer(a), FloatBuffer(b), FloatBuffer(c0))
        sgemm(transA, transB, M: 1, N: N, K: K, alpha: 0.5, A: A.pointer, lda: transA == .none ? K : lda, B: B.pointer, ldb: ldb,
              beta: 2, C: C.pointer, ldc: N)
        let expected = (0..<N).map { n -> Double in
            let dot = (0..<K).reduce(0.0) { sum, k in
                let x = Double(transA == .none ? a[k] : a[k * lda])
                let y = Double(transB == .none ? b[k * ldb + n] : b[n * ldb + k])
                return sum + x * y
            }
            return 0.5 * dot + 2 * Double(c0[n])
        }
        #expect(relativeError(C.array.doubles, expected) < tolerance)
    }

    @Test func layerNorm() {
        let (N, C) = (4, 50)
        let x = randomArray(N * C, seed: 8, scale: 3).map { $0 + 2 }, w = randomArray(C, seed: 9), b = randomArray(C, seed: 10)
        let dy = randomArray(N * C, seed: 11)
        let out = FloatBuffer(count: N * C), mean = FloatBuffer(count: N), rstd = FloatBuffer(count: N)
        let (X, W, B, DY) = (FloatBuffer(x), FloatBuffer(w), FloatBuffer(b), FloatBuffer(dy))
        let (DX, DW, DB) = (FloatBuffer(count: N * C), FloatBuffer(count: C), FloatBuffer(count: C))
        layerNormForward(out: out.pointer, mean: mean.pointer, rstd: rstd.pointer, inp: X.pointer, weight: W.pointer,
                         bias: B.pointer, N: N, C: C, eps: 1e-5)
        layerNormBackward(dinp: DX.pointer, dweight: DW.pointer, dbias: DB.pointer, dout: DY.pointer, inp: X.pointer,
                          weight: W.pointer, mean: mean.pointer, rstd: rstd.pointer, N: N, C: C)
        let grads = Reference.layerNormBackward(dy.doubles, x.doubles, w.doubles, N: N, C: C, eps: 1e-5)
        #expect(relativeError(out.array.doubles, Reference.layerNorm(x.doubles, w.doubles, b.doubles, N: N, C: C, eps: 1e-5)) < tolerance)
        #expect(relativeError(DX.array.doubles, grads.dx) < tolerance)
        #expect(relativeError(DW.array.doubles, grads.dw) < tolerance)
        #expect(relativeError(DB.array.doubles, grads.db) < tolerance)
    }

    @Test func gelu() {
        // Wide range including the tails where tanh saturates; 37 elements exercise the scalar tail.
        let x = randomArray(37, seed: 12, scale: 4) + [-12, -6, 0, 6, 12], dy = randomArray(42, seed: 13)
        let out = FloatBuffer(count: x.count), dx = FloatBuffer([Float](repeating: 1, count: x.count))
        let (X, DY) = (FloatBuffer(x), FloatBuffer(dy))
        geluForward(out: out.pointer, inp: X.pointer, count: x.count)
        geluBackward(dinp: dx.pointer, inp: X.pointer, dout: DY.pointer, count: x.count)
        #expect(relativeError(out.array.doubles, Reference.gelu(x.doubles)) < tolerance)
        #expect(relativeError(dx.array.map { Double($0 - 1) }, Reference.geluBackward(dy.doubles, x.doubles)) < tolerance)
    }

    @Test(arguments: [
        AttentionShape(heads: 3, kvHeads: 3, headSize: 8, scale: 1 / Float(8).squareRoot()),
        AttentionShape(heads: 4, kvHeads: 1, headSize: 5, scale: 0.3, window: 3),
    ], [RaggedBatch(lengths: [5, 1, 7]), RaggedBatch(lengths: [5, 1, 7], sharedStart: 4)])
    func attention(shape: AttentionShape, batch: RaggedBatch) {
        let N = batch.tokenCount, H = shape.heads, G = shape.kvHeads, D = shape.headSize
        let q = randomArray(N * H * D, seed: 14), k = randomArray(N * G * D, seed: 15), v = randomArray(N * G * D, seed: 16)
        let dout = randomArray(N * H * D, seed: 17)
        let (Q, K, V, DOUT) = (FloatBuffer(q), FloatBuffer(k), FloatBuffer(v), FloatBuffer(dout))
        let out = FloatBuffer(count: N * H * D), probs = FloatBuffer(count: batch.attentionSize(heads: H))
        let (DQ, DK, DV) = (FloatBuffer(count: q.count), FloatBuffer(count: k.count), FloatBuffer(count: v.count))
        let scratch = FloatBuffer(count: batch.maxLength * batch.maxLength)
        let view = { (b: FloatBuffer, heads: Int) in HeadMatrix(b.pointer, stride: heads * D) }
        attentionForward(out: view(out, H), probs: probs.pointer, q: view(Q, H), k: view(K, G), v: view(V, G),
                         batch: batch, shape: shape)
        attentionBackward(dq: view(DQ, H), dk: view(DK, G), dv: view(DV, G), scratch: scratch.pointer,
                          dout: view(DOUT, H), probs: probs.pointer, q: view(Q, H), k: view(K, G), v: view(V, G),
                          batch: batch, shape: shape)
        let reference = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, batch: batch, shape: shape)
        let grads = Reference.attentionBackward(dout.doubles, q: q.doubles, k: k.doubles, v: v.doubles, batch: batch, shape: shape)
        #expect(relativeError(out.array.doubles, reference) < tolerance)
        #expect(relativeError(DQ.array.doubles, grads.dq) < tolerance)
        #expect(relativeError(DK.array.doubles, grads.dk) < tolerance)
        #expect(relativeError(DV.array.doubles, grads.dv) < tolerance)
    }

    /// A shared start is each sequence's own start stored once: the sequences' outputs are those of the batch with
    /// the start copied into every sequence, and the start's key and value gradients are the copies' summed.
    @Test(arguments: [AttentionShape(heads: 4, kvHeads: 2, headSize: 6, scale: 0.4),
                      AttentionShape(heads: 2, kvHeads: 1, headSize: 4, scale: 0.5, window: 5)])
    func aSharedStartActsAsEverySequencesOwn(shape: AttentionShape) {
        let (S, lengths) = (4, [3, 1, 6])
        let shared = RaggedBatch(lengths: lengths, sharedStart: S), copied = RaggedBatch(lengths: lengths.map { S + $0 })
        let H = shape.heads, G = shape.kvHeads, D = shape.headSize
        let q = randomArray(shared.tokenCount * H * D, seed: 30), k = randomArray(shared.tokenCount * G * D, seed: 31)
        let v = randomArray(shared.tokenCount * G * D, seed: 32), dout = randomArray(shared.tokenCount * H * D, seed: 33)
        // The copied batch's row of each shared-batch row: sequence b's start rows are rows 0..<S of the shared one.
        var rows: [(copied: Int, shared: Int)] = []
        for b in lengths.indices {
            rows += (0..<S).map { (copied.offsets[b] + $0, $0) }
            rows += (0..<lengths[b]).map { (copied.offsets[b] + S + $0, shared.offsets[b] + $0) }
        }
        func spread(_ x: [Float], width: Int) -> [Float] {
            var out = [Float](repeating: 0, count: copied.tokenCount * width)
            for row in rows { for c in 0..<width { out[row.copied * width + c] = x[row.shared * width + c] } }
            return out
        }
        // dout on the start's rows is the start's own queries' gradient: give it to one copy only.
        var copiedDout = spread(dout, width: H * D)
        for b in 1..<lengths.count { for i in 0..<S { for c in 0..<H * D { copiedDout[(copied.offsets[b] + i) * H * D + c] = 0 } } }
        let run = { (batch: RaggedBatch, q: [Float], k: [Float], v: [Float], dout: [Float]) -> (out: [Float], dq: [Float], dk: [Float], dv: [Float]) in
            let (Q, K, V, DOUT) = (FloatBuffer(q), FloatBuffer(k), FloatBuffer(v), FloatBuffer(dout))
            let out = FloatBuffer(count: q.count), probs = FloatBuffer(count: batch.attentionSize(heads: H))
            let (DQ, DK, DV) = (FloatBuffer(count: q.count), FloatBuffer(count: k.count), FloatBuffer(count: v.count))
            let scratch = FloatBuffer(count: batch.maxLength * batch.maxLength)
            let view = { (b: FloatBuffer, heads: Int) in HeadMatrix(b.pointer, stride: heads * D) }
            attentionForward(out: view(out, H), probs: probs.pointer, q: view(Q, H), k: view(K, G), v: view(V, G), batch: batch, shape: shape)
            attentionBackward(dq: view(DQ, H), dk: view(DK, G), dv: view(DV, G), scratch: scratch.pointer, dout: view(DOUT, H),
                              probs: probs.pointer, q: view(Q, H), k: view(K, G), v: view(V, G), batch: batch, shape: shape)
            return (out.array, DQ.array, DK.array, DV.array)
        }
        let one = run(shared, q, k, v, dout)
        let many = run(copied, spread(q, width: H * D), spread(k, width: G * D), spread(v, width: G * D), copiedDout)
        // Gather the copied batch's results onto the shared rows: outputs read once, gradients summed over copies.
        func gather(_ x: [Float], width: Int, sum: Bool) -> [Float] {
            var out = [Float](repeating: 0, count: shared.tokenCount * width)
            for (index, row) in rows.enumerated() where sum || index < S || row.shared >= S {
                for c in 0..<width { out[row.shared * width + c] += x[row.copied * width + c] }
            }
            return out
        }
        #expect(relativeError(one.out.doubles, gather(many.out, width: H * D, sum: false).doubles) < tolerance)
        #expect(relativeError(one.dq.doubles, gather(many.dq, width: H * D, sum: true).doubles) < tolerance)
        #expect(relativeError(one.dk.doubles, gather(many.dk, width: G * D, sum: true).doubles) < tolerance)
        #expect(relativeError(one.dv.doubles, gather(many.dv, width: G * D, sum: true).doubles) < tolerance)
        #expect(shared.positions == [0, 1, 2, 3, 4, 5, 6, 4, 4, 5, 6, 7, 8, 9])
    }

    /// With two BLAS threads, attentionForward runs (example, head) items on two workers with single-threaded
    /// GEMMs inside; the result must not depend on it, and the thread count must come back.
    @Test func attentionOnTwoWorkers() {
        let shape = AttentionShape(heads: 4, kvHeads: 2, headSize: 6, scale: 0.4, window: 4)
        let batch = RaggedBatch(lengths: [5, 1, 7, 3, 6])
        let N = batch.tokenCount, H = shape.heads, G = shape.kvHeads, D = shape.headSize
        let q = randomArray(N * H * D, seed: 24), k = randomArray(N * G * D, seed: 25), v = randomArray(N * G * D, seed: 26)
        let (Q, K, V) = (FloatBuffer(q), FloatBuffer(k), FloatBuffer(v))
        let out = FloatBuffer(count: N * H * D), probs = FloatBuffer(count: batch.attentionSize(heads: H))
        let view = { (b: FloatBuffer, heads: Int) in HeadMatrix(b.pointer, stride: heads * D) }
        let threads = BLAS.threads
        BLAS.setThreads(2)
        attentionForward(out: view(out, H), probs: probs.pointer, q: view(Q, H), k: view(K, G), v: view(V, G),
                         batch: batch, shape: shape)
        let after = BLAS.threads
        BLAS.setThreads(threads)
        #expect(after == 2)
        let reference = Reference.attention(q: q.doubles, k: k.doubles, v: v.doubles, batch: batch, shape: shape)
        #expect(relativeError(out.array.doubles, reference) < tolerance)
    }

    @Test func crossEntropy() {
        let (R, V) = (3, 70)
        let logits = randomArray(R * V, seed: 18, scale: 5), targets: [Int32] = [3, 69, 0], dl: [Float] = [0.5, -1, 2]
        let losses = FloatBuffer(count: R), probs = FloatBuffer(count: R * V), dlogits = FloatBuffer(count: R * V)
        let (L, DL) = (FloatBuffer(logits), FloatBuffer(dl))
        targets.withUnsafeBufferPointer { t in
            crossEntropyForward(losses: losses.pointer, probs: probs.pointer, logits: L.pointer, targets: t.baseAddress!, R: R, V: V)
            crossEntropyBackward(dlogits: dlogits.pointer, probs: probs.pointer, targets: t.baseAddress!, dlosses: DL.pointer, R: R, V: V)
        }
        #expect(relativeError(losses.array.doubles, Reference.crossEntropy(logits.doubles, targets: targets, V: V)) < tolerance)
        #expect(relativeError(dlogits.array.doubles, Reference.crossEntropyBackward(dl.doubles, logits.doubles, targets: targets, V: V)) < tolerance)
    }

    @Test func positionEmbedding() {
        let (N, C) = (4, 6)
        let x = randomArray(N * C, seed: 19), wpe = randomArray(3 * C, seed: 20), dy = randomArray(N * C, seed: 21)
        let positions: [Int32] = [0, 1, 2, 0]
        let out = FloatBuffer(count: N * C), dx = FloatBuffer(count: N * C), dwpe = FloatBuffer(count: 3 * C)
        let (X, WPE, DY) = (FloatBuffer(x), FloatBuffer(wpe), FloatBuffer(dy))
        positions.withUnsafeBufferPointer { p in
            positionEmbeddingForward(out: out.pointer, inp: X.pointer, wpe: WPE.pointer, positions: p.baseAddress!, N: N, C: C)
            positionEmbeddingBackward(dinp: dx.pointer, dwpe: dwpe.pointer, dout: DY.pointer, positions: p.baseAddress!, N: N, C: C)
        }
        for n in 0..<N {
            for c in 0..<C {
                #expect(out[n * C + c] == x[n * C + c] + wpe[Int(positions[n]) * C + c])
            }
        }
        #expect(dx.array == dy)
        // Position 0 appears twice, so its gradient row is the sum of rows 0 and 3.
        #expect(dwpe.array[0..<C].elementsEqual((0..<C).map { dy[$0] + dy[3 * C + $0] }))
    }

    @Test func fastExpAndTanh() {
        var worstExp = 0.0, worstTanh = 0.0
        var x: Float = -87
        while x < 88.3 {
            let e = Double(fastExp(x)), t = Double(fastTanh(x))
            worstExp = max(worstExp, abs(e - _exp(Double(x))) / _exp(Double(x)))
            worstTanh = max(worstTanh, abs(t - _tanh(Double(x))))
            x += 0.0137
        }
        #expect(worstExp < 3e-7)
        #expect(worstTanh < 3e-7)
        // Outside the float range the result saturates instead of overflowing to inf or NaN.
        #expect(fastExp(-200) < 2e-38)
        #expect(fastExp(200) > 1e38 && fastExp(200).isFinite)
        #expect(fastTanh(-50) == -1 && fastTanh(50) == 1)
    }
}

#if canImport(Glibc)
import Glibc
#endif
func _exp(_ x: Double) -> Double { exp(x) }
func _tanh(_ x: Double) -> Double { tanh(x) }

@Suite struct BLASCoreTests {
    let avx512: Set<String> = ["fpu", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]

    @Test func aGenericFallbackOnAnAVX512CPUAsksForTheAVX512Kernels() {
        #expect(BLASCore.suggested(currentCore: "Prescott", cpuFlags: avx512, environment: [:]) == "SkylakeX")
        #expect(BLASCore.suggested(currentCore: "Prescott", cpuFlags: avx512.union(["avx512_bf16"]), environment: [:]) == "Cooperlake")
        #expect(BLASCore.suggested(currentCore: "Prescott", cpuFlags: ["avx2", "fma"], environment: [:]) == "Haswell")
    }

    @Test func aKnownCoreAUsersChoiceOrAnOldCPUAreLeftAlone() {
        #expect(BLASCore.suggested(currentCore: "Zen", cpuFlags: avx512, environment: [:]) == nil)
        #expect(BLASCore.suggested(currentCore: "Prescott", cpuFlags: avx512, environment: ["OPENBLAS_CORETYPE": "Haswell"]) == nil)
        #expect(BLASCore.suggested(currentCore: "Prescott", cpuFlags: avx512, environment: ["OPENBLAS_CORETYPE": ""]) == nil)
        #expect(BLASCore.suggested(currentCore: "Prescott", cpuFlags: ["sse3"], environment: [:]) == nil)
    }

    @Test func cpuFlagsAreReadFromTheFirstProcessor() {
        let info = "processor\t: 0\nflags\t\t: fpu avx2 avx512f\n\nprocessor\t: 1\nflags\t\t: fpu\n"
        #expect(BLASCore.cpuFlags(cpuinfo: info) == ["fpu", "avx2", "avx512f"])
        #expect(BLASCore.cpuFlags(cpuinfo: "no flags here") == [])
    }
}
