// Activation and gradient buffers for the decoder's forward and backward, sized for the largest batch seen;
// buffers of layer kinds a configuration lacks stay empty.
// Dimensions: N packed tokens, C channels, Q = H·D query width, K = G·D key/value width, F feed-forward width.
import Kernels

struct DecoderActivations {
    final class Layer {
        var norm1 = GrowableBuffer(), statistics1 = GrowableBuffer()    // (N, C), (2N)
        var qkv = GrowableBuffer()                                      // (N, Q + 2K): fused projections only
        var query = GrowableBuffer(), queryRstd = GrowableBuffer()      // (N, Q) projected, (N·H): query-key norm only
        var key = GrowableBuffer(), keyRstd = GrowableBuffer()          // (N, K) projected, (N·G): query-key norm only
        var rotatedQuery = GrowableBuffer(), rotatedKey = GrowableBuffer()  // after the per-head norm, if any, and RoPE
        var value = GrowableBuffer()                                    // (N, K); these three unused when fused
        var probabilities = GrowableBuffer()                            // (H · Σ L²)
        var attention = GrowableBuffer()                                // (N, Q)
        var attentionOutput = GrowableBuffer(), statisticsPostAttention = GrowableBuffer()  // (N, C), (2N): sandwich only
        var middle = GrowableBuffer()                                   // (N, C) residual after attention
        var norm2 = GrowableBuffer(), statistics2 = GrowableBuffer()    // (N, C), (2N)
        // (N, F): the gate and up projections and their product; for the plain MLP, gate holds its first layer's
        // output and activated its GELU.
        var gate = GrowableBuffer(), up = GrowableBuffer(), activated = GrowableBuffer()
        var down = GrowableBuffer(), statisticsPostFeedForward = GrowableBuffer()      // (N, C), (2N): sandwich only
        var output = GrowableBuffer()                                   // (N, C) the next layer's input

        func reserve(_ c: DecoderConfig, tokens N: Int, attention size: Int) {
            let (C, Q, K, F) = (c.width, c.heads * c.headSize, c.kvHeads * c.headSize, c.feedForwardWidth)
            for b in [\Layer.norm1, \.middle, \.norm2, \.output] { self[keyPath: b].reserve(N * C) }
            for b in [\Layer.statistics1, \.statistics2] { self[keyPath: b].reserve(2 * N) }
            attention.reserve(N * Q)
            if c.conv1DProjections {
                qkv.reserve(N * (Q + 2 * K))
            } else {
                rotatedQuery.reserve(N * Q)
                for b in [\Layer.rotatedKey, \.value] { self[keyPath: b].reserve(N * K) }
            }
            for b in [\Layer.gate, \.activated] { self[keyPath: b].reserve(N * F) }
            if c.feedForward != .gelu { up.reserve(N * F) }
            if c.queryKeyNorm {
                query.reserve(N * Q); key.reserve(N * K)
                queryRstd.reserve(N * c.heads); keyRstd.reserve(N * c.kvHeads)
            }
            if c.sandwichNorms {
                for b in [\Layer.attentionOutput, \.down] { self[keyPath: b].reserve(N * C) }
                for b in [\Layer.statisticsPostAttention, \.statisticsPostFeedForward] { self[keyPath: b].reserve(2 * N) }
            }
            probabilities.reserve(size)
        }
    }

    var layers: [Layer] = []
    var inputs = GrowableBuffer()  // (N, C) the caller's input embeddings (plus learned positions): the first residual
    var head = SelectiveHead()

    // Backward scratch, reused by every layer.
    var dResidual = GrowableBuffer(), dNarrow = GrowableBuffer(), dNorm = GrowableBuffer()  // (N, C)
    var dGate = GrowableBuffer(), dUp = GrowableBuffer(), dActivated = GrowableBuffer()    // (N, F)
    var dAttention = GrowableBuffer(), dRotatedQuery = GrowableBuffer(), dQuery = GrowableBuffer()  // (N, Q)
    var dQKV = GrowableBuffer()                                                             // (N, Q + 2K): fused only
    var dRotatedKey = GrowableBuffer(), dKey = GrowableBuffer(), dValue = GrowableBuffer()        // (N, K)
    var attentionScratch = GrowableBuffer()                                                 // (T, T)

    mutating func reserve(_ c: DecoderConfig, tokens N: Int, attention: Int, headRows R: Int, headColumns S: Int, subset: Bool) {
        while layers.count < c.layers { layers.append(Layer()) }
        for layer in layers { layer.reserve(c, tokens: N, attention: attention) }
        inputs.reserve(N * c.width)
        head.reserve(rows: R, columns: S, width: c.width, isSubset: subset)
    }

    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? inputs.pointer : layers[l - 1].output.pointer
    }
}
