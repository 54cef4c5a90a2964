// AdamW (Loshchilov & Hutter 2019) with bias correction and decoupled weight decay, plus global-norm
// gradient clipping, for a flat parameter vector.
import Foundation

public struct AdamW: Codable, Sendable, Equatable {
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float
    public private(set) var step = 0
    public private(set) var m: [Float] = []
    public private(set) var v: [Float] = []

    public init(learningRate: Float, weightDecay: Float = 0) {
        self.learningRate = learningRate; self.weightDecay = weightDecay
    }

    private enum CodingKeys: String, CodingKey { case learningRate, beta1, beta2, epsilon, weightDecay, step, m, v }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        beta1 = try c.decode(Float.self, forKey: .beta1); beta2 = try c.decode(Float.self, forKey: .beta2)
        epsilon = try c.decode(Float.self, forKey: .epsilon); weightDecay = try c.decode(Float.self, forKey: .weightDecay)
        step = try c.decode(Int.self, forKey: .step)
        m = try c.decode(PackedFloats.self, forKey: .m).values
        v = try c.decode(PackedFloats.self, forKey: .v).values
    }

    /// The moments as packed floats: an RLPrompt policy has millions.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(beta1, forKey: .beta1); try c.encode(beta2, forKey: .beta2)
        try c.encode(epsilon, forKey: .epsilon); try c.encode(weightDecay, forKey: .weightDecay)
        try c.encode(step, forKey: .step)
        try c.encode(PackedFloats(m), forKey: .m); try c.encode(PackedFloats(v), forKey: .v)
    }

    public mutating func update(_ parameters: inout [Float], gradient: [Float]) {
        precondition(parameters.count == gradient.count, "gradient and parameters differ in size")
        if m.count != parameters.count || v.count != parameters.count {
            m = [Float](repeating: 0, count: parameters.count)
            v = m
        }
        step += 1
        // β^t in Double, in constant time whatever the step (a run may resume at step millions).
        let correction1 = Float(1 - Foundation.pow(Double(beta1), Double(step)))
        let correction2 = Float(1 - Foundation.pow(Double(beta2), Double(step)))
        for i in parameters.indices {
            let g = gradient[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g * g
            let mHat = m[i] / correction1, vHat = v[i] / correction2
            parameters[i] -= learningRate * (mHat / (vHat.squareRoot() + epsilon) + weightDecay * parameters[i])
        }
    }
}

/// The L2 norm, summed in Double.
public func l2Norm(_ x: [Float]) -> Float {
    Float(x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
}

/// Scales the gradient so its L2 norm is at most maxNorm; returns the norm before clipping.
@discardableResult
public func clipGradient(_ gradient: inout [Float], maxNorm: Float) -> Float {
    let norm = l2Norm(gradient)
    if maxNorm > 0, norm > maxNorm {
        let scale = maxNorm / norm
        for i in gradient.indices { gradient[i] *= scale }
    }
    return norm
}
