// RLPrompt's policy head (Deng et al. 2022, after Houlsby et al.'s adapters): a frozen language model's final
// hidden state h passes through a trainable MLP, out = ReLU(h·W1 + b1)·W2 + b2, and the model's frozen, tied
// output embedding E turns it into logits out·Eᵀ. Only the MLP trains; its backward stops at h.
// Dimensions: M rows, C width, K hidden width (2048 in RLPrompt).
import Kernels

/// The MLP's parameters in one flat array with named views: W1 (C, K), b1 (K), W2 (K, C), b2 (C).
public struct PolicyMLP: Sendable, Equatable {
    public let width: Int
    public let hiddenWidth: Int
    public var parameters: [Float]

    public init(width C: Int, hiddenWidth K: Int, parameters: [Float]) {
        precondition(parameters.count == Self.parameterCount(width: C, hiddenWidth: K), "MLP parameters do not fit \(C)→\(K)→\(C)")
        width = C; hiddenWidth = K; self.parameters = parameters
    }

    /// RLPrompt's initialization: Xavier-uniform weights at gain 1e-4 and biases of −1e-4, so the policy starts
    /// close to uniform over what it may choose.
    public init(width C: Int, hiddenWidth K: Int, seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        let bound = 1e-4 * (6 / Float(C + K)).squareRoot()
        let weight = { (count: Int) in (0..<count).map { _ in bound * (2 * rng.nextUnit() - 1) } }
        let w1 = weight(C * K), w2 = weight(K * C)
        self.init(width: C, hiddenWidth: K, parameters: w1 + [Float](repeating: -1e-4, count: K) + w2 + [Float](repeating: -1e-4, count: C))
    }

    public static func parameterCount(width C: Int, hiddenWidth K: Int) -> Int { 2 * C * K + K + C }

    // Offsets of the named views.
    var w1: Int { 0 }
    var b1: Int { width * hiddenWidth }
    var w2: Int { b1 + hiddenWidth }
    var b2: Int { w2 + hiddenWidth * width }

    /// Polyak averaging toward `online`: θ′ ← (1 − τ)·θ′ + τ·θ.
    public mutating func moveToward(_ online: PolicyMLP, rate τ: Float) {
        precondition(online.parameters.count == parameters.count, "target and online networks differ in size")
        for i in parameters.indices { parameters[i] = (1 - τ) * parameters[i] + τ * online.parameters[i] }
    }
}

/// Activations of the MLP for up to M rows, kept for the backward, and the backward's scratch.
public struct PolicyActivations {
    var input = GrowableBuffer()    // (M, C) h
    var hidden = GrowableBuffer()   // (M, K) ReLU(h·W1 + b1)
    var output = GrowableBuffer()   // (M, C)
    var dHidden = GrowableBuffer()  // (M, K)
    public private(set) var rows = 0

    public init() {}

    /// Room for M rows; buffers grow only for more rows than before.
    public mutating func reserve(rows M: Int, width C: Int, hiddenWidth K: Int) {
        input.reserve(M * C); output.reserve(M * C)
        hidden.reserve(M * K); dHidden.reserve(M * K)
        rows = M
    }

    /// The MLP's output row r (C).
    public func output(row r: Int, width C: Int) -> UnsafePointer<Float> { UnsafePointer(output.pointer + r * C) }
}

extension PolicyMLP {
    /// Runs rows `first ..< first + count` of `activations` from h (count, C); the MLP output lands in
    /// activations.output at the same rows. `activations` must be reserved for at least first + count rows.
    public func forward(_ h: UnsafePointer<Float>, rows first: Int, count M: Int, activations a: inout PolicyActivations) {
        let (C, K) = (width, hiddenWidth)
        precondition(a.rows >= first + M, "policy activations reserved for \(a.rows) rows, not \(first + M)")
        let input = a.input.pointer + first * C, hidden = a.hidden.pointer + first * K, output = a.output.pointer + first * C
        input.update(from: h, count: M * C)
        parameters.withUnsafeBufferPointer { p in
            let base = p.baseAddress!
            linearForward(out: hidden, inp: input, weight: base + w1, bias: base + b1, layout: .inputMajor, N: M, I: C, O: K)
            for i in 0..<(M * K) where hidden[i] < 0 { hidden[i] = 0 }
            linearForward(out: output, inp: hidden, weight: base + w2, bias: base + b2, layout: .inputMajor, N: M, I: K, O: C)
        }
    }

    /// Accumulates d(loss)/d(parameters) into `gradient` from d(loss)/d(output) (M, C) for the first M rows.
    public func backward(dOutput: UnsafePointer<Float>, rows M: Int, activations a: PolicyActivations, gradient: inout [Float]) {
        let (C, K) = (width, hiddenWidth)
        let dHidden = a.dHidden.pointer
        dHidden.update(repeating: 0, count: M * K)  // linearBackward accumulates
        parameters.withUnsafeBufferPointer { p in
            gradient.withUnsafeMutableBufferPointer { g in
                let (base, d) = (p.baseAddress!, g.baseAddress!)
                linearBackward(dinp: dHidden, dweight: d + w2, dbias: d + b2, dout: dOutput, inp: a.hidden.pointer,
                               weight: base + w2, layout: .inputMajor, N: M, I: K, O: C)
                // ReLU: no gradient where the unit was off.
                for i in 0..<(M * K) where a.hidden.pointer[i] <= 0 { dHidden[i] = 0 }
                linearBackward(dinp: nil, dweight: d + w1, dbias: d + b1, dout: dHidden, inp: a.input.pointer,
                               weight: base + w1, layout: .inputMajor, N: M, I: C, O: K)
            }
        }
    }
}
