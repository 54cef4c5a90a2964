// Analytic FLOP counts of the GPT-2 workloads and the GEMM shapes they run, following the kernel sequence
// of Sources/Models/GPT2.swift. A GEMM of (M,K)·(K,N) counts 2·M·N·K; elementwise work (LayerNorm, GELU,
// softmax, residual adds, cross-entropy) is not counted. Dimensions: B batch, T tokens per example,
// N = B·T packed tokens, C channels, L layers, V vocabulary.
import Models

/// One sgemm as a workload calls it: C (M,N) = A (M,K) · op(B), with B (K,N) or, transposed, (N,K).
public struct GEMMShape: Sendable, Equatable {
    public var name: String
    public var M: Int, N: Int, K: Int
    public var transposeB: Bool
    /// How many times one forward pass runs it.
    public var count: Int

    public var flops: Double { 2 * Double(M) * Double(N) * Double(K) }
}

public struct GPT2Cost: Sendable {
    public let config: DecoderConfig
    public let B: Int, T: Int

    public init(config: DecoderConfig, B: Int, T: Int) {
        self.config = config; self.B = B; self.T = T
    }

    var N: Double { Double(B * T) }
    var C: Double { Double(config.width) }
    var L: Double { Double(config.layers) }
    var V: Double { Double(config.vocabularySize) }

    /// The forward pass's GEMMs outside attention: the four linear layers of every block (Conv1D weights,
    /// x·W) and the tied LM head at every position (x·Eᵀ).
    public var forwardShapes: [GEMMShape] {
        let (n, c, v) = (B * T, config.width, config.vocabularySize)
        return [
            GEMMShape(name: "qkv", M: n, N: 3 * c, K: c, transposeB: false, count: config.layers),
            GEMMShape(name: "attn-proj", M: n, N: c, K: c, transposeB: false, count: config.layers),
            GEMMShape(name: "fc", M: n, N: 4 * c, K: c, transposeB: false, count: config.layers),
            GEMMShape(name: "fc-proj", M: n, N: c, K: 4 * c, transposeB: false, count: config.layers),
            GEMMShape(name: "lm-head", M: n, N: v, K: c, transposeB: true, count: 1),
        ]
    }

    /// Per block, forward: qkv 2·N·C·3C + proj 2·N·C·C + fc 2·N·C·4C + fc-proj 2·N·4C·C = 24·N·C².
    public var linearForward: Double { L * 24 * N * C * C }
    /// Per block and example, forward: scores q·kᵀ (T,D)·(D,T) and probs·v (T,T)·(T,D) for each of H heads,
    /// 2·2·T²·D·H = 4·T²·C. The kernel computes the full T×T square, masked afterwards, so that is what counts.
    public var attentionForward: Double { L * Double(B) * 4 * Double(T * T) * C }
    /// Tied head at every position: 2·N·C·V.
    public var headForward: Double { 2 * N * C * V }

    public var forward: Double { linearForward + attentionForward + headForward }

    /// Frozen-weight backward: one GEMM per linear layer and for the head (d input = d out · Wᵀ), the same
    /// FLOPs as their forwards; attention backward runs four T×T GEMMs per head (dP, dV, dQ, dK): 8·T²·C.
    public var frozenBackward: Double { linearForward + 2 * attentionForward + headForward }
    /// Full backward adds the weight-gradient GEMMs (xᵀ · d out) of the linear layers and the head.
    public var fullBackward: Double { frozenBackward + linearForward + headForward }

    public var frozenStep: Double { forward + frozenBackward }
    public var fullStep: Double { forward + fullBackward }

    /// The rate sgemm would need to run a workload's GEMMs, weighted by their FLOPs: Σ wᵢ / Σ (wᵢ / rᵢ),
    /// with wᵢ = count · FLOPs of shape i and rᵢ its measured rate. Backward GEMMs are weighted at the rate
    /// of the forward shape they mirror (same M·N·K), so the forward, frozen and full steps share one figure.
    /// Attention's small per-head GEMMs are not among the shapes. Returns FLOP/s.
    public static func weightedRate(_ shapes: [GEMMShape], rates: [String: Double]) -> Double? {
        var work = 0.0, time = 0.0
        for shape in shapes {
            guard let rate = rates[shape.name], rate > 0 else { return nil }
            let w = Double(shape.count) * shape.flops
            work += w
            time += w / rate
        }
        return time > 0 ? work / time : nil
    }
}
