// GPT-2 124M workloads on random weights: a forward with the LM head at every position, and a training
// step (softmax cross-entropy over the full vocabulary at every position) with a frozen-weight or a full
// backward. Dimensions: B batch, T tokens per example, N = B·T, C channels, V vocabulary.
import Kernels
import Models

/// Inputs and loss buffers for one (B, T), shared by the workloads at that shape so they allocate once.
public final class GPT2Batch {
    public let B: Int, T: Int
    public let batch: RaggedBatch
    public let head: HeadRequest
    let inputs: FloatBuffer       // (N, C) input embeddings of random token ids
    let targets: [Int32]          // (N) random next tokens
    private(set) lazy var losses = FloatBuffer(count: batch.tokenCount)       // (N)
    private(set) lazy var dLosses = FloatBuffer(Array(repeating: 1 / Float(batch.tokenCount), count: batch.tokenCount))  // (N): mean loss
    private(set) lazy var probs = FloatBuffer(count: batch.tokenCount * vocabularySize)    // (N, V)
    private(set) lazy var dLogits = FloatBuffer(count: batch.tokenCount * vocabularySize)  // (N, V)
    let vocabularySize: Int

    public init(model: DecoderModel, B: Int, T: Int, seed: UInt64 = 1) throws {
        self.B = B; self.T = T
        batch = RaggedBatch(lengths: Array(repeating: T, count: B))
        head = .allTokens(of: batch)
        vocabularySize = model.vocabularySize
        var rng = SeededGenerator(seed: seed)
        let V = UInt64(model.vocabularySize)
        let ids = (0..<(B * T)).map { _ in Int32(rng.next() % V) }
        targets = (0..<(B * T)).map { _ in Int32(rng.next() % V) }
        inputs = FloatBuffer(count: B * T * model.width)
        try model.embed(ids, into: inputs.pointer)
    }
}

public final class GPT2Workload: Workload {
    public enum Kind: String, CaseIterable, Sendable {
        case forward = "gpt2-124m/forward"
        case frozenStep = "gpt2-124m/frozen-step"
        case fullStep = "gpt2-124m/full-step"
    }

    public let kind: Kind
    let model: DecoderModel
    let data: GPT2Batch

    public init(_ kind: Kind, model: DecoderModel, data: GPT2Batch) {
        self.kind = kind; self.model = model; self.data = data
    }

    public var name: String { kind.rawValue }
    public var B: Int { data.B }
    public var T: Int { data.T }
    public var examples: Int? { data.B }
    public var cost: GPT2Cost { GPT2Cost(config: model.config, B: B, T: T) }
    public var flops: Double? {
        switch kind {
        case .forward: return cost.forward
        case .frozenStep: return cost.frozenStep
        case .fullStep: return cost.fullStep
        }
    }

    public func step() throws {
        let logits = try model.forward(inputs: data.inputs.pointer, batch: data.batch, head: data.head)
        guard kind != .forward else { return }
        let (R, V) = (logits.rows, logits.columns)
        data.targets.withUnsafeBufferPointer { targets in
            crossEntropyForward(losses: data.losses.pointer, probs: data.probs.pointer, logits: logits.pointer,
                                targets: targets.baseAddress!, R: R, V: V)
            data.dLogits.zero()
            crossEntropyBackward(dlogits: data.dLogits.pointer, probs: data.probs.pointer, targets: targets.baseAddress!,
                                 dlosses: data.dLosses.pointer, R: R, V: V)
        }
        if kind == .fullStep { model.zeroGradients() }
        _ = try model.backward(dLogits: data.dLogits.pointer, mode: kind == .fullStep ? .full : .frozenWeights)
    }
}
