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
    var head = SelectiveHead()

    // Backward scratch, reused by every layer.
    var dResidual = GrowableBuffer()                          // (N, C)
    var dNorm = GrowableBuffer()                              // (N, C)
    var dWide = GrowableBuffer(), dWide2 = GrowableBuffer()   // (N, 4C)
    var attentionScratch = GrowableBuffer()                   // (T, T)

    mutating func reserve(layers L: Int, tokens N: Int, width C: Int, attention: Int,
                          headRows R: Int, headColumns S: Int, subset: Bool) {
        while layers.count < L { layers.append(Layer()) }
        for layer in layers { layer.reserve(tokens: N, width: C, attention: attention) }
        encoded.reserve(N * C)
        head.reserve(rows: R, columns: S, width: C, isSubset: subset)
    }

    /// The residual stream entering layer l (l = L: the final one).
    func layerInput(_ l: Int) -> UnsafeMutablePointer<Float> {
        l == 0 ? encoded.pointer : layers[l - 1].output.pointer
    }
}
