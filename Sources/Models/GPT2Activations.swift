// Activation and gradient buffers for GPT-2's forward and backward, sized for the largest batch seen.
// Dimensions: N packed tokens, C channels, H heads, R head rows, S head columns.
import Kernels

struct GPT2Activations {
    final class Layer {
        var ln1 = GrowableBuffer(), ln1Mean = GrowableBuffer(), ln1Rstd = GrowableBuffer()  // (N,C), (N), (N)
        var qkv = GrowableBuffer()            // (N, 3C)
        var probabilities = GrowableBuffer()  // (H · Σ L²)
        var attention = GrowableBuffer()      // (N, C) heads side by side, before the projection
        var middle = GrowableBuffer()         // (N, C) residual after attention
        var ln2 = GrowableBuffer(), ln2Mean = GrowableBuffer(), ln2Rstd = GrowableBuffer()
        var fc = GrowableBuffer(), fcGelu = GrowableBuffer()  // (N, 4C)
        var output = GrowableBuffer()         // (N, C) residual after the MLP: the next layer's input

        func reserve(tokens N: Int, width C: Int, attention: Int) {
            for buffer in [\Layer.ln1, \.attention, \.middle, \.ln2, \.output] { self[keyPath: buffer].reserve(N * C) }
            for buffer in [\Layer.ln1Mean, \.ln1Rstd, \.ln2Mean, \.ln2Rstd] { self[keyPath: buffer].reserve(N) }
            qkv.reserve(N * 3 * C)
            fc.reserve(N * 4 * C)
            fcGelu.reserve(N * 4 * C)
            probabilities.reserve(attention)
        }
    }

    var layers: [Layer] = []
    var encoded = GrowableBuffer()                            // (N, C) inputs + position embeddings
    var headInput = GrowableBuffer(), lnf = GrowableBuffer()  // (R, C)
    var lnfMean = GrowableBuffer(), lnfRstd = GrowableBuffer()  // (R)
    var headWeights = GrowableBuffer()                        // (S, C) when a vocabulary subset is asked for
    var logits = GrowableBuffer()                             // (R, S)

    // Backward scratch, reused by every layer.
    var dResidual = GrowableBuffer()                          // (N, C)
    var dNorm = GrowableBuffer()                              // (N, C)
    var dWide = GrowableBuffer(), dWide2 = GrowableBuffer()   // (N, 4C)
    var attentionScratch = GrowableBuffer()                   // (T, T)
    var dHeadRows = GrowableBuffer(), dHeadInput = GrowableBuffer()  // (R, C)
    var dHeadWeights = GrowableBuffer()                       // (S, C)

    mutating func reserve(layers L: Int, tokens N: Int, width C: Int, attention: Int,
                          headRows R: Int, headColumns S: Int, subset: Bool) {
        while layers.count < L { layers.append(Layer()) }
        for layer in layers { layer.reserve(tokens: N, width: C, attention: attention) }
        encoded.reserve(N * C)
        headInput.reserve(R * C); lnf.reserve(R * C)
        lnfMean.reserve(R); lnfRstd.reserve(R)
        if subset { headWeights.reserve(S * C) }
        logits.reserve(R * S)
    }

    /// The residual stream entering layer l (l = L: the final one).
    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? encoded.pointer : layers[l - 1].output.pointer
    }
}
