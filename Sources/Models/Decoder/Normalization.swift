// One normalization site of the decoder: RMSNorm, or LayerNorm with a bias, and where its saved statistics go.
// Statistics (2N): RMSNorm keeps rstd in [0, N); LayerNorm keeps the mean in [0, N) and rstd in [N, 2N).
import Kernels

struct Normalization {
    let kind: DecoderConfig.Normalization
    let weight: UnsafePointer<Float>
    let bias: UnsafePointer<Float>?
    let epsilon: Float

    init(_ kind: DecoderConfig.Normalization, weight: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>?, epsilon: Float) {
        self.kind = kind; self.weight = UnsafePointer(weight); self.bias = bias.map { UnsafePointer($0) }; self.epsilon = epsilon
    }

    /// out (N, C) = norm(inp), saving the statistics the backward reads.
    func forward(out: UnsafeMutablePointer<Float>, statistics: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, N: Int, C: Int) {
        switch kind {
        case .rms:
            rmsNormForward(out: out, rstd: statistics, inp: inp, weight: weight, N: N, C: C, eps: epsilon)
        case .layer:
            layerNormForward(out: out, mean: statistics, rstd: statistics + N, inp: inp, weight: weight, bias: bias!, N: N, C: C, eps: epsilon)
        }
    }

    /// Accumulates d(inp) into dinp, and with dweight (and dbias) the weight gradients.
    func backward(dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
                  dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, statistics: UnsafePointer<Float>, N: Int, C: Int) {
        switch kind {
        case .rms:
            rmsNormBackward(dinp: dinp, dweight: dweight, dout: dout, inp: inp, weight: weight, rstd: statistics, N: N, C: C)
        case .layer:
            layerNormBackward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight,
                              mean: statistics, rstd: statistics + N, N: N, C: C)
        }
    }
}
