// Decoder-only transformers — GPT-2, Gemma 3, Llama, Qwen2 — as one model built from the layer kinds of its
// configuration: pre-norm blocks (RMSNorm, or LayerNorm with a bias), grouped-query attention with rotate-half RoPE
// or learned positions (optionally QKV biases, per-head query/key norms, sliding-window layers, GPT-2's fused Conv1D
// projections), a gated feed-forward (GeGLU or SwiGLU) or a plain GELU MLP, optional sandwich norms after each
// sub-block, and a tied or separate LM head. Forward and backward over packed ragged batches, as in transformers'
// modeling_gpt2.py, modeling_gemma3.py, modeling_llama.py and modeling_qwen2.py (and llm.c's gpt2_backward).
// Dimensions: N packed tokens, R head rows, C channels, H/G query/key-value heads, D head size, F feed-forward.
import Foundation
import Kernels

public final class DecoderModel: CausalLM {
    public let config: DecoderConfig
    public let layout: ParameterLayout
    public let parameters: FloatBuffer
    let weights: DecoderTensors
    public private(set) var gradients: FloatBuffer?
    /// How the frozen matrices are multiplied: float32 unless `use(precision:)` said otherwise.
    public private(set) var products = FrozenProducts(precision: .fp32)
    /// Where the weights came from, for reports and for tying prompts to a model.
    public internal(set) var source: String = "random"

    private var activations = DecoderActivations()
    var localRope: RotaryTable
    var globalRope: RotaryTable
    private var last: ForwardRecord?
    /// Buffers of forward(continuing:), kept apart from the training activations that backward reads.
    var continuation = DecoderContinuationBuffers()

    public var width: Int { config.width }
    public var vocabularySize: Int { config.vocabularySize }
    public var contextLength: Int? { config.context }
    public var parameterCount: Int { layout.entries.reduce(0) { $0 + $1.count } }
    public var summary: String {
        let c = config
        let precision = products.precision == .fp32 ? "" : ", \(products.precision) products"
        if c.architecture == .gpt2 { return "GPT-2 (\(c.layers) layers, \(c.heads) heads, width \(c.width), vocabulary \(c.vocabularySize)\(precision))" }
        return "\(c.architecture.displayName) (\(c.layers) layers, \(c.heads) query heads / \(c.kvHeads) key-value "
            + "head\(c.kvHeads == 1 ? "" : "s"), width \(c.width), vocabulary \(c.vocabularySize)\(c.tiedHead ? "" : ", untied head")\(precision))"
    }

    /// A model with zeroed weights, for loaders to fill. The configuration is checked here, where it first
    /// sizes an allocation, so no path reaches the layout, the buffers or RoPE with an unchecked value.
    init(config: DecoderConfig) throws {
        try config.validate()
        self.config = config
        layout = config.parameterLayout
        parameters = FloatBuffer(count: layout.totalCount)
        weights = DecoderTensors(config: config, layout: layout, base: parameters.pointer)
        // Learned positions need no tables: empty two-channel ones stand in (a head size may then be odd).
        let ropeSize = config.positions == .rotary ? config.headSize : 2
        localRope = RotaryTable(base: config.localRopeBase, headSize: ropeSize)
        globalRope = RotaryTable(base: config.globalRopeBase, headSize: ropeSize, linearScaling: config.ropeLinearScaling)
    }

    /// Random weights for tests and benchmarks: normal(0, 0.02) matrices; GPT-2 as transformers initializes it
    /// (unit LayerNorm gains, zero biases), the others with norm gains near 1 and small random biases.
    public convenience init(randomWeightsFor config: DecoderConfig, seed: UInt64) throws {
        try self.init(config: config)
        var rng = SeededGenerator(seed: seed)
        for entry in layout.entries {
            let p = parameters.pointer + entry.offset
            if config.architecture == .gpt2 {
                if entry.name.hasSuffix(".bias") { continue }
                if entry.name.hasPrefix("ln") || entry.name.contains(".ln_") { p.update(repeating: 1, count: entry.count); continue }
                for i in 0..<entry.count { p[i] = 0.02 * rng.nextNormal() }
            } else {
                let isNorm = entry.name.contains("norm")
                for i in 0..<entry.count { p[i] = isNorm ? 1 + 0.1 * rng.nextNormal() : 0.02 * rng.nextNormal() }
            }
        }
    }

    public func zeroGradients() { gradients?.zero() }

    /// Multiplies by the frozen matrices in `precision` from now on. bfloat16 rounds every matrix (the embedding, the
    /// blocks' projections and the head) to bfloat16 in place; norm weights and biases stay float32. A model's weights
    /// are rounded at most once: going back to float32 means loading them again.
    public func use(precision: Precision) throws {
        guard precision != products.precision else { return }
        guard products.precision == .fp32 else { throw ModelError.precisionAlreadySet(products.precision.rawValue) }
        let bf16 = FrozenProducts(precision: .bf16)
        let c = config, layout = c.weightLayout
        let (C, Q, K, F) = (c.width, c.heads * c.headSize, c.kvHeads * c.headSize, c.feedForwardWidth)
        for block in weights.blocks {
            if c.conv1DProjections {
                bf16.prepare(weight: block.query, layout: .inputMajor, I: C, O: Q + 2 * K)
            } else {
                bf16.prepare(weight: block.query, layout: .outputMajor, I: C, O: Q)
                bf16.prepare(weight: block.key!, layout: .outputMajor, I: C, O: K)
                bf16.prepare(weight: block.value!, layout: .outputMajor, I: C, O: K)
            }
            bf16.prepare(weight: block.attentionOutput, layout: layout, I: Q, O: C)
            bf16.prepare(weight: block.gate, layout: layout, I: C, O: F)
            if let up = block.up { bf16.prepare(weight: up, layout: layout, I: C, O: F) }
            bf16.prepare(weight: block.down, layout: layout, I: F, O: C)
        }
        bf16.prepare(weight: weights.head, layout: .outputMajor, I: C, O: c.vocabularySize)
        // An untied model's input embedding is a frozen matrix too: rounded, though only ever looked up.
        if weights.embedding != weights.head { roundToBFloat16(weights.embedding, count: c.vocabularySize * C) }
        products = bf16
    }

    public func embed(_ ids: [Int32], into out: UnsafeMutablePointer<Float>) throws {
        for id in ids where id < 0 || Int(id) >= config.vocabularySize {
            throw ModelError.tokenOutOfRange(id: id, vocabularySize: config.vocabularySize)
        }
        let C = config.width
        ids.withUnsafeBufferPointer {
            tokenEmbeddingForward(out: out, ids: $0.baseAddress!, wte: weights.embedding, N: ids.count, C: C)
        }
        if config.scalesEmbeddings { scaleInPlace(out, config.embeddingScale, count: ids.count * C) }
    }

    /// The embedding matrix (V, C) as stored; input embeddings are its rows times `config.embeddingScale`.
    public var tokenEmbeddings: UnsafePointer<Float> { UnsafePointer(weights.embedding) }
    public var headWeights: UnsafePointer<Float> { UnsafePointer(weights.head) }
    public var embeddingScale: Float { config.embeddingScale }
    public var lastHeadInputs: UnsafePointer<Float> { UnsafePointer(activations.head.normed.pointer) }

    // MARK: The block
    // x → norm1 → attention → (sandwich norm) → + x = middle → norm2 → feed-forward → (sandwich norm) → + middle.

    func norm(_ weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?) -> Normalization {
        Normalization(config.normalization, weight: weight, bias: bias, epsilon: config.normEpsilon)
    }

    func attention(layer l: Int) -> Attention {
        Attention(config: config, weights: weights.blocks[l], rope: rope(for: l), shape: attentionShape(layer: l), products: products)
    }

    func feedForward(layer l: Int) -> FeedForward { FeedForward(config, weights: weights.blocks[l], products: products) }

    /// Block l before the attention core: x (N, C) → norm1 → the attention's queries, keys and values.
    func attentionInputs(layer l: Int, x: UnsafePointer<Float>, s: DecoderActivations.Layer, positions: UnsafePointer<Int32>, N: Int) {
        let w = weights.blocks[l]
        norm(w.attentionNorm, bias: w.attentionNormBias).forward(out: s.norm1.pointer, statistics: s.statistics1.pointer, inp: x, N: N, C: config.width)
        attention(layer: l).project(x: s.norm1.pointer, s: s, positions: positions, N: N)
    }

    /// Block l after the attention core (s.attention, (N, Q)): output projection, sandwich norm if any and residual
    /// into s.middle, then norm2, the feed-forward, its sandwich norm and residual into s.output (N, C), the next
    /// layer's input.
    func attentionOutputAndFeedForward(layer l: Int, x: UnsafePointer<Float>, s: DecoderActivations.Layer, N: Int) {
        let c = config, w = weights.blocks[l], C = c.width
        // Without a sandwich norm, each sub-block writes straight into the residual it adds to.
        let projected = c.sandwichNorms ? s.attentionOutput.pointer : s.middle.pointer
        attention(layer: l).projectOutput(s: s, out: projected, N: N)
        if let weight = w.postAttentionNorm {
            norm(weight, bias: nil).forward(out: s.middle.pointer, statistics: s.statisticsPostAttention.pointer, inp: projected, N: N, C: C)
        }
        addInPlace(s.middle.pointer, x, count: N * C)
        norm(w.feedForwardNorm, bias: w.feedForwardNormBias).forward(out: s.norm2.pointer, statistics: s.statistics2.pointer, inp: s.middle.pointer, N: N, C: C)
        let down = c.sandwichNorms ? s.down.pointer : s.output.pointer
        feedForward(layer: l).forward(x: s.norm2.pointer, s: s, out: down, N: N)
        if let weight = w.postFeedForwardNorm {
            norm(weight, bias: nil).forward(out: s.output.pointer, statistics: s.statisticsPostFeedForward.pointer, inp: down, N: N, C: C)
        }
        addInPlace(s.output.pointer, s.middle.pointer, count: N * C)
    }

    /// The residual stream entering layer 0: the input embeddings (N, C), plus the learned position rows if any
    /// (rotary models add positions inside attention).
    func firstResidual(out: UnsafeMutablePointer<Float>, inputs: UnsafePointer<Float>, positions: UnsafePointer<Int32>, N: Int) {
        if let wpe = weights.positionEmbedding {
            positionEmbeddingForward(out: out, inp: inputs, wpe: wpe, positions: positions, N: N, C: config.width)
        } else {
            out.update(from: inputs, count: N * config.width)
        }
    }

    /// The final norm before the head.
    var outputNorm: Normalization { norm(weights.outputNorm, bias: weights.outputNormBias) }

    func rope(for layer: Int) -> RotaryTable { config.isGlobal(layer: layer) ? globalRope : localRope }

    func attentionShape(layer l: Int) -> AttentionShape {
        AttentionShape(heads: config.heads, kvHeads: config.kvHeads, headSize: config.headSize,
                       scale: 1 / config.queryPreAttentionScalar.squareRoot(),
                       window: config.isGlobal(layer: l) ? nil : config.slidingWindow)
    }

    // MARK: Forward

    public func forward(inputs: UnsafePointer<Float>, batch: RaggedBatch, head: HeadRequest) throws -> Logits {
        try validate(batch: batch, head: head, vocabularySize: config.vocabularySize, context: config.context)
        let c = config
        let (N, C, H) = (batch.tokenCount, c.width, c.heads)
        let R = head.rows.count
        activations.reserve(c, tokens: N, attention: batch.attentionSize(heads: H), headRows: R,
                            headColumns: head.vocabulary?.count ?? c.vocabularySize, subset: head.vocabulary != nil)
        if c.positions == .rotary {
            localRope.reserve(positions: batch.maxLength)
            globalRope.reserve(positions: batch.maxLength)
        }
        let a = activations
        let positions = batch.positions
        positions.withUnsafeBufferPointer { positionPointer in
            let pos = positionPointer.baseAddress!
            firstResidual(out: a.inputs.pointer, inputs: inputs, positions: pos, N: N)
            for l in 0..<c.layers {
                let s = a.layers[l], x = a.layerInput(l)
                attentionInputs(layer: l, x: x, s: s, positions: pos, N: N)
                attention(layer: l).attend(s: s, batch: batch)
                attentionOutputAndFeedForward(layer: l, x: x, s: s, N: N)
            }
        }
        // The final norm and the head run only on the requested rows.
        a.head.gather(rows: head.rows, from: a.layerInput(c.layers), C: C)
        outputNorm.forward(out: a.head.normed.pointer, statistics: a.head.statistics.pointer, inp: a.head.input.pointer, N: R, C: C)
        let logits = a.head.forward(embedding: weights.head, vocabulary: head.vocabulary, R: R, C: C, V: c.vocabularySize, products: products)
        last = ForwardRecord(batch: batch, head: head, positions: positions)
        return logits
    }

    // MARK: Backward

    public func backward(dLogits: UnsafePointer<Float>, dHeadInputs: UnsafePointer<Float>?, mode: BackwardMode) throws -> UnsafePointer<Float> {
        guard let last else { throw ModelError.backwardWithoutForward }
        let c = config, batch = last.batch, head = last.head
        let (N, C, R) = (batch.tokenCount, c.width, head.rows.count)
        if mode == .full && gradients == nil { gradients = FloatBuffer(count: layout.totalCount) }
        let g = mode == .full ? gradients.map { DecoderTensors(config: c, layout: layout, base: $0.pointer) } : nil
        var a = activations

        let dNormed = a.head.backward(dLogits: dLogits, embedding: weights.head, dEmbedding: g?.head,
                                      vocabulary: head.vocabulary, R: R, C: C, V: c.vocabularySize, products: products)
        // A loss that also reads the normed rows themselves adds its gradient on them here.
        if let dHeadInputs { addInPlace(dNormed, dHeadInputs, count: R * C) }
        outputNorm.backward(dinp: a.head.dInput.zeroed(R * C), dweight: g?.outputNorm, dbias: g?.outputNormBias, dout: dNormed,
                            inp: a.head.input.pointer, statistics: a.head.statistics.pointer, N: R, C: C)
        let dResidual = a.dResidual.zeroed(N * C)
        a.head.scatter(rows: head.rows, into: dResidual, C: C)

        last.positions.withUnsafeBufferPointer { positionPointer in
            let pos = positionPointer.baseAddress!
            for l in stride(from: c.layers - 1, through: 0, by: -1) {
                backwardThroughFeedForward(layer: l, a: &a, g: g?.blocks[l], dResidual: dResidual, N: N)
                backwardThroughAttention(layer: l, a: &a, g: g?.blocks[l], dResidual: dResidual, batch: batch, positions: pos)
            }
            // inputs + wpe[position]: the inputs' gradient is dResidual itself; the table's, in full mode.
            if let dwpe = g?.positionEmbedding {
                positionEmbeddingBackward(dinp: nil, dwpe: dwpe, dout: dResidual, positions: pos, N: N, C: C)
            }
        }
        activations = a
        return UnsafePointer(dResidual)
    }

    /// d(sub-block output) from d(residual add) through a sandwich norm (scratch dNarrow), or dout itself without one.
    private func backwardThroughSandwich(_ weight: UnsafeMutablePointer<Float>?, gradient: UnsafeMutablePointer<Float>?,
                                         dout: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>, statistics: UnsafePointer<Float>,
                                         a: inout DecoderActivations, N: Int) -> UnsafePointer<Float> {
        guard let weight else { return UnsafePointer(dout) }
        let d = a.dNarrow.zeroed(N * config.width)
        norm(weight, bias: nil).backward(dinp: d, dweight: gradient, dbias: nil, dout: dout, inp: input, statistics: statistics, N: N, C: config.width)
        return UnsafePointer(d)
    }

    /// output = middle + sandwich(feedForward(norm2(middle))): dResidual from d(output) to d(middle).
    private func backwardThroughFeedForward(layer l: Int, a: inout DecoderActivations, g: DecoderTensors.Block?,
                                            dResidual: UnsafeMutablePointer<Float>, N: Int) {
        let w = weights.blocks[l], s = a.layers[l], C = config.width
        let dDown = backwardThroughSandwich(w.postFeedForwardNorm, gradient: g?.postFeedForwardNorm, dout: dResidual,
                                            input: s.down.pointer, statistics: s.statisticsPostFeedForward.pointer, a: &a, N: N)
        let dNorm2 = a.dNorm.zeroed(N * C)
        feedForward(layer: l).backward(dout: dDown, x: s.norm2.pointer, s: s, a: &a, g: g, dx: dNorm2, N: N)
        norm(w.feedForwardNorm, bias: w.feedForwardNormBias).backward(
            dinp: dResidual, dweight: g?.feedForwardNorm, dbias: g?.feedForwardNormBias, dout: dNorm2, inp: s.middle.pointer,
            statistics: s.statistics2.pointer, N: N, C: C)
    }

    /// middle = x + sandwich(attention(norm1(x))): dResidual from d(middle) to d(x).
    private func backwardThroughAttention(layer l: Int, a: inout DecoderActivations, g: DecoderTensors.Block?,
                                          dResidual: UnsafeMutablePointer<Float>, batch: RaggedBatch, positions pos: UnsafePointer<Int32>) {
        let w = weights.blocks[l], s = a.layers[l], x = a.layerInput(l)
        let (N, C) = (batch.tokenCount, config.width)
        let dProjected = backwardThroughSandwich(w.postAttentionNorm, gradient: g?.postAttentionNorm, dout: dResidual,
                                                 input: s.attentionOutput.pointer, statistics: s.statisticsPostAttention.pointer, a: &a, N: N)
        let dNorm1 = a.dNorm.zeroed(N * C)
        attention(layer: l).backward(dout: dProjected, x: s.norm1.pointer, s: s, a: &a, g: g, dx: dNorm1, batch: batch, positions: pos)
        norm(w.attentionNorm, bias: w.attentionNormBias).backward(
            dinp: dResidual, dweight: g?.attentionNorm, dbias: g?.attentionNormBias, dout: dNorm1, inp: x,
            statistics: s.statistics1.pointer, N: N, C: C)
    }
}

/// What backward needs to know about the forward it follows.
struct ForwardRecord {
    let batch: RaggedBatch
    let head: HeadRequest
    let positions: [Int32]
}
