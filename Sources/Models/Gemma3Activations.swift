// Activation and gradient buffers for Gemma 3's forward and backward, sized for the largest batch seen.
// Dimensions: N packed tokens, C channels, Q = H·D query width, K = G·D key/value width, F feed-forward width.
import Kernels

struct Gemma3Activations {
    final class Layer {
        var norm1 = GrowableBuffer(), rstd1 = GrowableBuffer()          // (N, C), (N)
        var query = GrowableBuffer(), queryRstd = GrowableBuffer()      // (N, Q) projected, (N·H)
        var key = GrowableBuffer(), keyRstd = GrowableBuffer()          // (N, K) projected, (N·G)
        var rotatedQuery = GrowableBuffer(), rotatedKey = GrowableBuffer()  // after per-head norm and RoPE
        var value = GrowableBuffer()                                    // (N, K)
        var probabilities = GrowableBuffer()                            // (H · Σ L²)
        var attention = GrowableBuffer()                                // (N, Q)
        var attentionOutput = GrowableBuffer(), rstdPostAttention = GrowableBuffer()  // (N, C), (N)
        var middle = GrowableBuffer()                                   // (N, C) residual after attention
        var norm2 = GrowableBuffer(), rstd2 = GrowableBuffer()          // (N, C), (N)
        var gate = GrowableBuffer(), up = GrowableBuffer(), activated = GrowableBuffer()  // (N, F)
        var down = GrowableBuffer(), rstdPostFeedForward = GrowableBuffer()            // (N, C), (N)
        var output = GrowableBuffer()                                   // (N, C) the next layer's input

        func reserve(_ c: Gemma3Config, tokens N: Int, attention size: Int) {
            let (C, Q, K, F) = (c.width, c.heads * c.headSize, c.kvHeads * c.headSize, c.feedForwardWidth)
            for b in [\Layer.norm1, \.attentionOutput, \.middle, \.norm2, \.down, \.output] { self[keyPath: b].reserve(N * C) }
            for b in [\Layer.rstd1, \.rstdPostAttention, \.rstd2, \.rstdPostFeedForward] { self[keyPath: b].reserve(N) }
            for b in [\Layer.query, \.rotatedQuery, \.attention] { self[keyPath: b].reserve(N * Q) }
            for b in [\Layer.key, \.rotatedKey, \.value] { self[keyPath: b].reserve(N * K) }
            for b in [\Layer.gate, \.up, \.activated] { self[keyPath: b].reserve(N * F) }
            queryRstd.reserve(N * c.heads)
            keyRstd.reserve(N * c.kvHeads)
            probabilities.reserve(size)
        }
    }

    var layers: [Layer] = []
    var inputs = GrowableBuffer()  // (N, C) a copy of the caller's input embeddings: the first residual
    var head = SelectiveHead()

    // Backward scratch, reused by every layer.
    var dResidual = GrowableBuffer(), dNarrow = GrowableBuffer(), dNorm = GrowableBuffer()  // (N, C)
    var dGate = GrowableBuffer(), dUp = GrowableBuffer(), dActivated = GrowableBuffer()    // (N, F)
    var dAttention = GrowableBuffer(), dRotatedQuery = GrowableBuffer(), dQuery = GrowableBuffer()  // (N, Q)
    var dRotatedKey = GrowableBuffer(), dKey = GrowableBuffer(), dValue = GrowableBuffer()        // (N, K)
    var attentionScratch = GrowableBuffer()                                                 // (T, T)

    mutating func reserve(_ c: Gemma3Config, tokens N: Int, attention: Int, headRows R: Int, headColumns S: Int, subset: Bool) {
        while layers.count < c.layers { layers.append(Layer()) }
        for layer in layers { layer.reserve(c, tokens: N, attention: attention) }
        inputs.reserve(N * c.width)
        head.reserve(rows: R, columns: S, width: c.width, isSubset: subset)
    }

    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? inputs.pointer : layers[l - 1].output.pointer
    }
}
