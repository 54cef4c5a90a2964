// GPT-2 (Radford et al. 2019) as in Hugging Face's modeling_gpt2.py, with an explicit forward and backward
// over packed ragged batches (llm.c's gpt2_forward/gpt2_backward, generalized to ragged lengths and a
// selective LM head). Dimensions: N packed tokens, R head rows, C channels, V vocabulary, S = Vsel.
import Foundation
import Kernels

public final class GPT2: CausalLM {
    public let config: GPT2Config
    public let layout: ParameterLayout
    /// Every weight, in one allocation laid out by `layout`.
    public let parameters: FloatBuffer
    let weights: GPT2Tensors
    /// Weight gradients in the same layout; allocated on the first full backward, then accumulated into.
    public private(set) var gradients: FloatBuffer?

    private var activations = GPT2Activations()
    private var last: ForwardRecord?
    /// Buffers of forward(continuing:), kept apart from the training activations that backward reads.
    var continuation = GPT2ContinuationBuffers()

    public var width: Int { config.width }
    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int? { config.positions }
    public var parameterCount: Int { layout.entries.reduce(0) { $0 + $1.count } }
    public var summary: String {
        "GPT-2 (\(config.layers) layers, \(config.heads) heads, width \(config.width), vocabulary \(config.vocabularySize))"
    }

    var attentionShape: AttentionShape {
        AttentionShape(heads: config.heads, kvHeads: config.heads, headSize: config.headSize,
                       scale: 1 / Float(config.headSize).squareRoot())
    }

    /// A model with zeroed weights, for loaders to fill. The configuration is checked here, where it first
    /// sizes an allocation, so no path reaches the layout or the buffers with an unchecked value.
    init(config: GPT2Config) throws {
        try config.validate()
        self.config = config
        layout = config.parameterLayout
        parameters = FloatBuffer(count: layout.totalCount)
        weights = GPT2Tensors(layout: layout, layers: config.layers, base: parameters.pointer)
    }

    /// Random weights as transformers initializes GPT-2: normal(0, 0.02) matrices, unit LayerNorm gains,
    /// zero biases. Enough for tests and benchmarks of the full-size shapes.
    public convenience init(randomWeightsFor config: GPT2Config, seed: UInt64) throws {
        try self.init(config: config)
        var rng = SeededGenerator(seed: seed)
        for entry in layout.entries {
            let p = parameters.pointer + entry.offset
            if entry.name.hasSuffix(".bias") {
                continue
            } else if entry.name.hasPrefix("ln") || entry.name.contains(".ln_") {
                p.update(repeating: 1, count: entry.count)
            } else {
                for i in 0..<entry.count { p[i] = 0.02 * rng.nextNormal() }
            }
        }
    }

    public func zeroGradients() { gradients?.zero() }

    public func embed(_ ids: [Int32], into out: UnsafeMutablePointer<Float>) throws {
        for id in ids where id < 0 || Int(id) >= config.vocabularySize {
            throw ModelError.tokenOutOfRange(id: id, vocabularySize: config.vocabularySize)
        }
        ids.withUnsafeBufferPointer {
            tokenEmbeddingForward(out: out, ids: $0.baseAddress!, wte: weights.wte, N: ids.count, C: config.width)
        }
    }

    /// The token embedding matrix (V, C): what `embed` reads and the LM head is tied to.
    public var tokenEmbeddings: UnsafePointer<Float> { UnsafePointer(weights.wte) }
    /// GPT-2's head is tied to wte.
    public var headWeights: UnsafePointer<Float> { UnsafePointer(weights.wte) }
    public var embeddingScale: Float { 1 }
    public var lastHeadInputs: UnsafePointer<Float> { UnsafePointer(activations.head.normed.pointer) }

    // MARK: Forward

    /// Block l before attention: LayerNorm, then the fused q/k/v projection into s.qkv (N, 3C).
    func attentionInputs(layer l: Int, x: UnsafePointer<Float>, s: GPT2Activations.Layer, N: Int) {
        let w = weights.blocks[l], C = config.width
        layerNormForward(out: s.ln1.pointer, mean: s.ln1Mean.pointer, rstd: s.ln1Rstd.pointer, inp: x,
                         weight: w.ln1Weight, bias: w.ln1Bias, N: N, C: C, eps: config.layerNormEpsilon)
        linearForward(out: s.qkv.pointer, inp: s.ln1.pointer, weight: w.qkvWeight, bias: w.qkvBias,
                      layout: .inputMajor, N: N, I: C, O: 3 * C)
    }

    /// Block l after attention (s.attention, (N, C)): projection and residual into s.middle, then LayerNorm, MLP
    /// and residual into s.output (N, C), the next layer's input.
    func attentionOutputAndFeedForward(layer l: Int, x: UnsafePointer<Float>, s: GPT2Activations.Layer, N: Int) {
        let w = weights.blocks[l], C = config.width
        linearForward(out: s.middle.pointer, inp: s.attention.pointer, weight: w.attentionProjWeight,
                      bias: w.attentionProjBias, layout: .inputMajor, N: N, I: C, O: C)
        addInPlace(s.middle.pointer, x, count: N * C)
        layerNormForward(out: s.ln2.pointer, mean: s.ln2Mean.pointer, rstd: s.ln2Rstd.pointer, inp: s.middle.pointer,
                         weight: w.ln2Weight, bias: w.ln2Bias, N: N, C: C, eps: config.layerNormEpsilon)
        linearForward(out: s.fc.pointer, inp: s.ln2.pointer, weight: w.fcWeight, bias: w.fcBias,
                      layout: .inputMajor, N: N, I: C, O: 4 * C)
        geluForward(out: s.fcGelu.pointer, inp: s.fc.pointer, count: N * 4 * C)
        linearForward(out: s.output.pointer, inp: s.fcGelu.pointer, weight: w.fcProjWeight, bias: w.fcProjBias,
                      layout: .inputMajor, N: N, I: 4 * C, O: C)
        addInPlace(s.output.pointer, s.middle.pointer, count: N * C)
    }

    public func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, head: HeadRequest) throws -> Logits {
        try validate(batch: batch, head: head, vocabularySize: config.vocabularySize, context: config.positions)
        let (N, C, L) = (batch.tokenCount, config.width, config.layers)
        let R = head.rows.count, S = head.vocabulary?.count ?? config.vocabularySize
        let shape = attentionShape
        activations.reserve(layers: L, tokens: N, width: C, attention: batch.attentionSize(heads: config.heads),
                            headRows: R, headColumns: S, subset: head.vocabulary != nil)
        let a = activations
        let positions = batch.positions
        positions.withUnsafeBufferPointer {
            positionEmbeddingForward(out: a.encoded.pointer, inp: inputs, wpe: weights.wpe, positions: $0.baseAddress!, N: N, C: C)
        }
        for l in 0..<L {
            let x = a.layerInput(l), s = a.layers[l], qkv = s.qkv.pointer
            attentionInputs(layer: l, x: x, s: s, N: N)
            attentionForward(out: HeadMatrix(s.attention.pointer, stride: C), probs: s.probabilities.pointer,
                             q: HeadMatrix(qkv, stride: 3 * C), k: HeadMatrix(qkv + C, stride: 3 * C),
                             v: HeadMatrix(qkv + 2 * C, stride: 3 * C), batch: batch, shape: shape)
            attentionOutputAndFeedForward(layer: l, x: x, s: s, N: N)
        }
        // The final LayerNorm and the head run only on the requested rows.
        a.head.gather(rows: head.rows, from: a.layerInput(L), C: C)
        layerNormForward(out: a.head.normed.pointer, mean: a.head.statistics.pointer, rstd: a.head.statistics.pointer + R,
                         inp: a.head.input.pointer, weight: weights.lnfWeight, bias: weights.lnfBias, N: R, C: C,
                         eps: config.layerNormEpsilon)
        let logits = a.head.forward(embedding: weights.wte, vocabulary: head.vocabulary, R: R, C: C, V: config.vocabularySize)
        last = ForwardRecord(batch: batch, head: head, positions: positions)
        return logits
    }

    // MARK: Backward

    public func backward(dLogits: UnsafePointer<Float>, dHeadInputs: UnsafePointer<Float>?, mode: BackwardMode) throws -> UnsafePointer<Float> {
        guard let last else { throw ModelError.backwardWithoutForward }
        let batch = last.batch, head = last.head
        let (N, C) = (batch.tokenCount, config.width)
        let R = head.rows.count
        let shape = attentionShape
        let full = mode == .full
        if full && gradients == nil { gradients = FloatBuffer(count: layout.totalCount) }
        let grads = gradients.map { GPT2Tensors(layout: layout, layers: config.layers, base: $0.pointer) }
        let g = full ? grads : nil
        var a = activations

        // LM head: logits = lnf · Eᵀ, with E tied to wte.
        let dNormed = a.head.backward(dLogits: dLogits, embedding: weights.wte, dEmbedding: g?.wte,
                                      vocabulary: head.vocabulary, R: R, C: C, V: config.vocabularySize)
        // A loss that also reads the normed rows themselves adds its gradient on them here.
        if let dHeadInputs { addInPlace(dNormed, dHeadInputs, count: R * C) }
        layerNormBackward(dinp: a.head.dInput.zeroed(R * C), dweight: g?.lnfWeight, dbias: g?.lnfBias, dout: dNormed,
                          inp: a.head.input.pointer, weight: weights.lnfWeight,
                          mean: a.head.statistics.pointer, rstd: a.head.statistics.pointer + R, N: R, C: C)
        let dResidual = a.dResidual.zeroed(N * C)
        a.head.scatter(rows: head.rows, into: dResidual, C: C)

        // Blocks in reverse; dResidual carries d(loss)/d(residual stream) down through them.
        for l in stride(from: config.layers - 1, through: 0, by: -1) {
            let w = weights.blocks[l], s = a.layers[l], x = a.layerInput(l), gl = g?.blocks[l]
            // output = middle + fcProj(gelu(fc(ln2(middle))))
            let dFcGelu = a.dWide.zeroed(N * 4 * C)
            linearBackward(dinp: dFcGelu, dweight: gl?.fcProjWeight, dbias: gl?.fcProjBias, dout: dResidual,
                           inp: s.fcGelu.pointer, weight: w.fcProjWeight, layout: .inputMajor, N: N, I: 4 * C, O: C)
            let dFc = a.dWide2.zeroed(N * 4 * C)
            geluBackward(dinp: dFc, inp: s.fc.pointer, dout: dFcGelu, count: N * 4 * C)
            let dLn2 = a.dNorm.zeroed(N * C)
            linearBackward(dinp: dLn2, dweight: gl?.fcWeight, dbias: gl?.fcBias, dout: dFc,
                           inp: s.ln2.pointer, weight: w.fcWeight, layout: .inputMajor, N: N, I: C, O: 4 * C)
            layerNormBackward(dinp: dResidual, dweight: gl?.ln2Weight, dbias: gl?.ln2Bias, dout: dLn2,
                              inp: s.middle.pointer, weight: w.ln2Weight, mean: s.ln2Mean.pointer,
                              rstd: s.ln2Rstd.pointer, N: N, C: C)
            // middle = x + proj(attention(qkv(ln1(x))))
            let dAttention = a.dNorm.zeroed(N * C)
            linearBackward(dinp: dAttention, dweight: gl?.attentionProjWeight, dbias: gl?.attentionProjBias,
                           dout: dResidual, inp: s.attention.pointer, weight: w.attentionProjWeight,
                           layout: .inputMajor, N: N, I: C, O: C)
            let dQkv = a.dWide.zeroed(N * 3 * C), qkv = s.qkv.pointer
            attentionBackward(dq: HeadMatrix(dQkv, stride: 3 * C), dk: HeadMatrix(dQkv + C, stride: 3 * C),
                              dv: HeadMatrix(dQkv + 2 * C, stride: 3 * C),
                              scratch: a.attentionScratch.zeroed(batch.maxLength * batch.maxLength),
                              dout: HeadMatrix(dAttention, stride: C), probs: s.probabilities.pointer,
                              q: HeadMatrix(qkv, stride: 3 * C), k: HeadMatrix(qkv + C, stride: 3 * C),
                              v: HeadMatrix(qkv + 2 * C, stride: 3 * C), batch: batch, shape: shape)
            let dLn1 = a.dWide2.zeroed(N * C)
            linearBackward(dinp: dLn1, dweight: gl?.qkvWeight, dbias: gl?.qkvBias, dout: dQkv,
                           inp: s.ln1.pointer, weight: w.qkvWeight, layout: .inputMajor, N: N, I: C, O: 3 * C)
            layerNormBackward(dinp: dResidual, dweight: gl?.ln1Weight, dbias: gl?.ln1Bias, dout: dLn1,
                              inp: x, weight: w.ln1Weight, mean: s.ln1Mean.pointer, rstd: s.ln1Rstd.pointer, N: N, C: C)
        }
        // encoded = inputs + wpe[position]: the inputs' gradient is dResidual itself.
        if full {
            last.positions.withUnsafeBufferPointer {
                positionEmbeddingBackward(dinp: nil, dwpe: g!.wpe, dout: dResidual, positions: $0.baseAddress!, N: N, C: C)
            }
        }
        activations = a
        return UnsafePointer(dResidual)
    }

}

/// What backward needs to know about the forward it follows.
struct ForwardRecord {
    let batch: RaggedBatch
    let head: HeadRequest
    let positions: [Int32]
}
