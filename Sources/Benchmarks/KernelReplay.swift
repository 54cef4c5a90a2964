// Where the GPT-2 frozen-weight step spends its time, kernel by kernel. The model does not time its own
// kernels, so this replays the sequence Sources/Models/GPT2.swift runs (one block forward and backward,
// then the final LayerNorm, LM head and cross-entropy) with the public kernels on scratch buffers of the
// same shapes, times every call, and scales the block's kernels by the layer count. One block's buffers
// are reused for all L, so caches are warmer than in the model: expect the replay to run a little faster.
// Dimensions: B batch, T tokens, N = B·T, C channels, V vocabulary, L layers.
import Kernels
import Models

public struct KernelTime: Codable, Sendable, Equatable {
    /// Kernel (function) name, with the part of the model it serves.
    public var kernel: String
    /// Calls per step (already multiplied by L for block kernels).
    public var calls: Int
    /// Seconds per step: median over the replays, times L for block kernels.
    public var seconds: Double
    /// seconds ÷ the replay's total.
    public var share: Double
    /// Analytic FLOPs per step of the GEMMs in this kernel (0 for elementwise kernels).
    public var gflops: Double?
}

public struct KernelProfile: Codable, Sendable {
    public var B: Int
    public var T: Int
    public var layers: Int
    public var threads: Int
    public var blasCore: String
    public var kernels: [KernelTime]
    /// Sum of the kernels' seconds: the replayed step.
    public var replaySeconds: Double
    /// The real frozen step at the same shape, for comparison, when it was measured.
    public var measuredStepSeconds: Double?
}

public enum GPT2KernelReplay {
    /// Replays a frozen-weight step `warmup + repeats` times and keeps each kernel's median.
    public static func profile(config: GPT2Config = .gpt2Small, B: Int, T: Int, repeats: Int = 5, warmup: Int = 1,
                               seed: UInt64 = 4) -> KernelProfile {
        let replay = Replay(config: config, B: B, T: T, seed: seed)
        for _ in 0..<warmup { replay.run() }
        replay.clear()
        for _ in 0..<repeats { replay.run() }
        let L = config.layers
        var kernels: [KernelTime] = replay.order.map { key in
            let samples = replay.samples[key]!
            let sorted = samples.sorted()
            let median = sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            let scale = replay.perBlock.contains(key) ? L : 1
            return KernelTime(kernel: key + (scale > 1 ? " ×\(L)" : ""), calls: replay.calls[key]! / repeats * scale,
                              seconds: median * Double(scale), share: 0,
                              gflops: replay.flops[key].map { $0 / 1e9 / Double(repeats) * Double(scale) })
        }
        let total = kernels.reduce(0) { $0 + $1.seconds }
        for i in kernels.indices { kernels[i].share = kernels[i].seconds / total }
        kernels.sort { $0.seconds > $1.seconds }
        return KernelProfile(B: B, T: T, layers: L, threads: BLAS.threads, blasCore: blasCoreName, kernels: kernels,
                             replaySeconds: total, measuredStepSeconds: nil)
    }
}

/// One block's weights and activations, the head's buffers, and per-kernel clocks.
private final class Replay {
    let B: Int, T: Int, N: Int, C: Int, V: Int
    let batch: RaggedBatch
    let shape: AttentionShape
    let eps: Float

    // Weights (one block, Conv1D layout) and the tied embedding.
    let ln1w, ln1b, ln2w, ln2b, qkvW, qkvB, projW, projB, fcW, fcB, fcProjW, fcProjB, lnfw, lnfb, wte, wpe: FloatBuffer
    let inputs: FloatBuffer       // (N, C) input embeddings
    let positions: [Int32]        // (N)
    // Forward activations of one block.
    let x, ln1, ln1Mean, ln1Rstd, qkv, probabilities, attention, middle, ln2, ln2Mean, ln2Rstd, fc, fcGelu, output: FloatBuffer
    // Head and loss.
    let headInput, headNormed, headStats, logits, losses, probs, dLogits, dLosses, dHeadNormed, dHeadInput: FloatBuffer
    let targets: [Int32]
    // Backward scratch, as the model keeps it.
    let dResidual, dNorm, dWide, dWide2, scratch: FloatBuffer

    var samples: [String: [Double]] = [:]
    var calls: [String: Int] = [:]
    var flops: [String: Double] = [:]
    var order: [String] = []
    var perBlock: Set<String> = []
    private var current: [String: Double] = [:]

    init(config: GPT2Config, B: Int, T: Int, seed: UInt64) {
        self.B = B; self.T = T; N = B * T; C = config.width; V = config.vocabularySize
        batch = RaggedBatch(lengths: Array(repeating: T, count: B))
        shape = AttentionShape(heads: config.heads, kvHeads: config.heads, headSize: config.headSize,
                               scale: 1 / Float(config.headSize).squareRoot())
        eps = config.layerNormEpsilon
        var rng = SeededGenerator(seed: seed)
        func random(_ count: Int, _ scale: Float) -> FloatBuffer {
            let b = FloatBuffer(count: count)
            for i in 0..<count { b[i] = scale * rng.nextNormal() }
            return b
        }
        func ones(_ count: Int) -> FloatBuffer { FloatBuffer(Array(repeating: 1, count: count)) }
        let (N, C, V) = (N, C, V)
        ln1w = ones(C); ln1b = FloatBuffer(count: C); ln2w = ones(C); ln2b = FloatBuffer(count: C)
        lnfw = ones(C); lnfb = FloatBuffer(count: C)
        qkvW = random(C * 3 * C, 0.02); qkvB = FloatBuffer(count: 3 * C)
        projW = random(C * C, 0.02); projB = FloatBuffer(count: C)
        fcW = random(C * 4 * C, 0.02); fcB = FloatBuffer(count: 4 * C)
        fcProjW = random(4 * C * C, 0.02); fcProjB = FloatBuffer(count: C)
        wte = random(V * C, 0.02)
        wpe = random(T * C, 0.01)
        inputs = random(N * C, 0.02)
        positions = batch.positions
        x = random(N * C, 1)
        ln1 = FloatBuffer(count: N * C); ln1Mean = FloatBuffer(count: N); ln1Rstd = FloatBuffer(count: N)
        qkv = FloatBuffer(count: N * 3 * C); probabilities = FloatBuffer(count: batch.attentionSize(heads: config.heads))
        attention = FloatBuffer(count: N * C); middle = FloatBuffer(count: N * C)
        ln2 = FloatBuffer(count: N * C); ln2Mean = FloatBuffer(count: N); ln2Rstd = FloatBuffer(count: N)
        fc = FloatBuffer(count: N * 4 * C); fcGelu = FloatBuffer(count: N * 4 * C); output = FloatBuffer(count: N * C)
        headInput = FloatBuffer(count: N * C); headNormed = FloatBuffer(count: N * C); headStats = FloatBuffer(count: 2 * N)
        logits = FloatBuffer(count: N * V); losses = FloatBuffer(count: N); probs = FloatBuffer(count: N * V)
        dLogits = FloatBuffer(count: N * V); dLosses = FloatBuffer(Array(repeating: 1 / Float(N), count: N))
        dHeadNormed = FloatBuffer(count: N * C); dHeadInput = FloatBuffer(count: N * C)
        targets = (0..<N).map { _ in Int32(rng.next() % UInt64(V)) }
        dResidual = FloatBuffer(count: N * C); dNorm = FloatBuffer(count: N * C)
        dWide = FloatBuffer(count: N * 4 * C); dWide2 = FloatBuffer(count: N * 4 * C)
        scratch = FloatBuffer(count: T * T)
    }

    func clear() { samples = [:]; calls = [:]; flops = [:] }

    /// Times `body` under `key`; block kernels are scaled by L when reported.
    private func time(_ key: String, block: Bool, gemmFlops: Double = 0, _ body: () -> Void) {
        let start = monotonicSeconds()
        body()
        current[key, default: 0] += monotonicSeconds() - start
        calls[key, default: 0] += 1
        if gemmFlops > 0 { flops[key, default: 0] += gemmFlops }
        if !order.contains(key) { order.append(key) }
        if block { perBlock.insert(key) }
    }

    /// Fills with zeros, as the model's GrowableBuffer.zeroed does before each accumulating kernel.
    private func zeroed(_ buffer: FloatBuffer, _ count: Int, block: Bool) -> UnsafeMutablePointer<Float> {
        time(block ? "zero fill (backward scratch)" : "zero fill (head)", block: block) {
            buffer.pointer.update(repeating: 0, count: count)
        }
        return buffer.pointer
    }

    func run() {
        current = [:]
        let (N, C, V, B, T) = (N, C, V, B, T)
        let gemm = { (m: Int, n: Int, k: Int) in 2 * Double(m) * Double(n) * Double(k) }
        let attentionFlops = Double(B) * 4 * Double(T * T) * Double(C)

        // Position embeddings, then one block forward (GPT2.forward, one layer).
        positions.withUnsafeBufferPointer { p in
            time("positionEmbeddingForward", block: false) {
                positionEmbeddingForward(out: x.pointer, inp: inputs.pointer, wpe: wpe.pointer, positions: p.baseAddress!, N: N, C: C)
            }
        }
        time("layerNormForward", block: true) {
            layerNormForward(out: ln1.pointer, mean: ln1Mean.pointer, rstd: ln1Rstd.pointer, inp: x.pointer,
                             weight: ln1w.pointer, bias: ln1b.pointer, N: N, C: C, eps: eps)
        }
        time("linearForward", block: true, gemmFlops: gemm(N, 3 * C, C)) {
            linearForward(out: qkv.pointer, inp: ln1.pointer, weight: qkvW.pointer, bias: qkvB.pointer,
                          layout: .inputMajor, N: N, I: C, O: 3 * C)
        }
        let q = HeadMatrix(qkv.pointer, stride: 3 * C), k = HeadMatrix(qkv.pointer + C, stride: 3 * C)
        let v = HeadMatrix(qkv.pointer + 2 * C, stride: 3 * C)
        time("attentionForward", block: true, gemmFlops: attentionFlops) {
            attentionForward(out: HeadMatrix(attention.pointer, stride: C), probs: probabilities.pointer,
                             q: q, k: k, v: v, batch: batch, shape: shape)
        }
        time("linearForward", block: true, gemmFlops: gemm(N, C, C)) {
            linearForward(out: middle.pointer, inp: attention.pointer, weight: projW.pointer, bias: projB.pointer,
                          layout: .inputMajor, N: N, I: C, O: C)
        }
        time("addInPlace (residual)", block: true) { addInPlace(middle.pointer, x.pointer, count: N * C) }
        time("layerNormForward", block: true) {
            layerNormForward(out: ln2.pointer, mean: ln2Mean.pointer, rstd: ln2Rstd.pointer, inp: middle.pointer,
                             weight: ln2w.pointer, bias: ln2b.pointer, N: N, C: C, eps: eps)
        }
        time("linearForward", block: true, gemmFlops: gemm(N, 4 * C, C)) {
            linearForward(out: fc.pointer, inp: ln2.pointer, weight: fcW.pointer, bias: fcB.pointer,
                          layout: .inputMajor, N: N, I: C, O: 4 * C)
        }
        time("geluForward", block: true) { geluForward(out: fcGelu.pointer, inp: fc.pointer, count: N * 4 * C) }
        time("linearForward", block: true, gemmFlops: gemm(N, C, 4 * C)) {
            linearForward(out: output.pointer, inp: fcGelu.pointer, weight: fcProjW.pointer, bias: fcProjB.pointer,
                          layout: .inputMajor, N: N, I: 4 * C, O: C)
        }
        time("addInPlace (residual)", block: true) { addInPlace(output.pointer, middle.pointer, count: N * C) }

        // Final LayerNorm, LM head at every position, loss (GPT2.forward's tail and GPT2Workload.step).
        time("gather / scatter (head rows)", block: false) {
            for r in 0..<N { (headInput.pointer + r * C).update(from: output.pointer + r * C, count: C) }
        }
        time("layerNormForward (final)", block: false) {
            layerNormForward(out: headNormed.pointer, mean: headStats.pointer, rstd: headStats.pointer + N,
                             inp: headInput.pointer, weight: lnfw.pointer, bias: lnfb.pointer, N: N, C: C, eps: eps)
        }
        time("linearForward (LM head)", block: false, gemmFlops: gemm(N, V, C)) {
            linearForward(out: logits.pointer, inp: headNormed.pointer, weight: wte.pointer, bias: nil,
                          layout: .outputMajor, N: N, I: C, O: V)
        }
        targets.withUnsafeBufferPointer { targets in
            time("crossEntropyForward", block: false) {
                crossEntropyForward(losses: losses.pointer, probs: probs.pointer, logits: logits.pointer,
                                    targets: targets.baseAddress!, R: N, V: V)
            }
            let d = zeroed(dLogits, N * V, block: false)
            time("crossEntropyBackward", block: false) {
                crossEntropyBackward(dlogits: d, probs: probs.pointer, targets: targets.baseAddress!,
                                     dlosses: dLosses.pointer, R: N, V: V)
            }
        }
        let dNormed = zeroed(dHeadNormed, N * C, block: false)
        time("linearBackward (LM head)", block: false, gemmFlops: gemm(N, C, V)) {
            linearBackward(dinp: dNormed, dweight: nil, dbias: nil, dout: dLogits.pointer, inp: headNormed.pointer,
                           weight: wte.pointer, layout: .outputMajor, N: N, I: C, O: V)
        }
        let dInput = zeroed(dHeadInput, N * C, block: false)
        time("layerNormBackward (final)", block: false) {
            layerNormBackward(dinp: dInput, dweight: nil, dbias: nil, dout: dNormed, inp: headInput.pointer,
                              weight: lnfw.pointer, mean: headStats.pointer, rstd: headStats.pointer + N, N: N, C: C)
        }
        let dRes = zeroed(dResidual, N * C, block: false)
        time("gather / scatter (head rows)", block: false) {
            for r in 0..<N { addInPlace(dRes + r * C, dInput + r * C, count: C) }
        }

        // Block backward, frozen weights (GPT2.backward, one layer).
        let dFcGelu = zeroed(dWide, N * 4 * C, block: true)
        time("linearBackward", block: true, gemmFlops: gemm(N, 4 * C, C)) {
            linearBackward(dinp: dFcGelu, dweight: nil, dbias: nil, dout: dRes, inp: fcGelu.pointer,
                           weight: fcProjW.pointer, layout: .inputMajor, N: N, I: 4 * C, O: C)
        }
        let dFc = zeroed(dWide2, N * 4 * C, block: true)
        time("geluBackward", block: true) { geluBackward(dinp: dFc, inp: fc.pointer, dout: dFcGelu, count: N * 4 * C) }
        let dLn2 = zeroed(dNorm, N * C, block: true)
        time("linearBackward", block: true, gemmFlops: gemm(N, C, 4 * C)) {
            linearBackward(dinp: dLn2, dweight: nil, dbias: nil, dout: dFc, inp: ln2.pointer, weight: fcW.pointer,
                           layout: .inputMajor, N: N, I: C, O: 4 * C)
        }
        time("layerNormBackward", block: true) {
            layerNormBackward(dinp: dRes, dweight: nil, dbias: nil, dout: dLn2, inp: middle.pointer, weight: ln2w.pointer,
                              mean: ln2Mean.pointer, rstd: ln2Rstd.pointer, N: N, C: C)
        }
        let dAttention = zeroed(dNorm, N * C, block: true)
        time("linearBackward", block: true, gemmFlops: gemm(N, C, C)) {
            linearBackward(dinp: dAttention, dweight: nil, dbias: nil, dout: dRes, inp: attention.pointer,
                           weight: projW.pointer, layout: .inputMajor, N: N, I: C, O: C)
        }
        let dQkv = zeroed(dWide, N * 3 * C, block: true)
        let scratchPointer = zeroed(scratch, T * T, block: true)
        time("attentionBackward", block: true, gemmFlops: 2 * attentionFlops) {
            attentionBackward(dq: HeadMatrix(dQkv, stride: 3 * C), dk: HeadMatrix(dQkv + C, stride: 3 * C),
                              dv: HeadMatrix(dQkv + 2 * C, stride: 3 * C), scratch: scratchPointer,
                              dout: HeadMatrix(dAttention, stride: C), probs: probabilities.pointer,
                              q: q, k: k, v: v, batch: batch, shape: shape)
        }
        let dLn1 = zeroed(dWide2, N * C, block: true)
        time("linearBackward", block: true, gemmFlops: gemm(N, 3 * C, C)) {
            linearBackward(dinp: dLn1, dweight: nil, dbias: nil, dout: dQkv, inp: ln1.pointer, weight: qkvW.pointer,
                           layout: .inputMajor, N: N, I: C, O: 3 * C)
        }
        time("layerNormBackward", block: true) {
            layerNormBackward(dinp: dRes, dweight: nil, dbias: nil, dout: dLn1, inp: x.pointer, weight: ln1w.pointer,
                              mean: ln1Mean.pointer, rstd: ln1Rstd.pointer, N: N, C: C)
        }
        for (key, seconds) in current { samples[key, default: []].append(seconds) }
    }
}
