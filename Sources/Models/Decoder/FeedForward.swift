// The feed-forward sub-block of a decoder layer: gated, down(act(gate(x)) ⊙ up(x)) with GeGLU or SwiGLU (Gemma,
// Llama, Qwen2), or plain, down(gelu(fc(x))) with biases (GPT-2). Forward from the normed input into `out`; backward
// from d(out) into d(input), with the weight gradients in full mode. Dimensions: N tokens, C channels, F hidden.
import Kernels

struct FeedForward {
    let kind: DecoderConfig.FeedForward
    let weights: DecoderTensors.Block
    let layout: WeightLayout
    let C: Int, F: Int
    let products: FrozenProducts

    init(_ config: DecoderConfig, weights: DecoderTensors.Block, products: FrozenProducts) {
        kind = config.feedForward; self.weights = weights; layout = config.weightLayout; self.products = products
        C = config.width; F = config.feedForwardWidth
    }

    /// out (N, C) from x (N, C). Keeps gate (the plain MLP's first layer), up and activated in s for the backward.
    func forward(x: UnsafePointer<Float>, s: DecoderActivations.Layer, out: UnsafeMutablePointer<Float>, N: Int) {
        let w = weights
        products.linearForward(out: s.gate.pointer, inp: x, weight: w.gate, bias: w.gateBias, layout: layout, N: N, I: C, O: F)
        switch kind {
        case .gelu:
            geluForward(out: s.activated.pointer, inp: s.gate.pointer, count: N * F)
        case .geglu, .swiglu:
            products.linearForward(out: s.up.pointer, inp: x, weight: w.up!, bias: nil, layout: layout, N: N, I: C, O: F)
            if kind == .geglu {
                gegluForward(out: s.activated.pointer, gate: s.gate.pointer, up: s.up.pointer, count: N * F)
            } else {
                swigluForward(out: s.activated.pointer, gate: s.gate.pointer, up: s.up.pointer, count: N * F)
            }
        }
        products.linearForward(out: out, inp: s.activated.pointer, weight: w.down, bias: w.downBias, layout: layout, N: N, I: F, O: C)
    }

    /// Accumulates d(x) into dx (N, C) from dout (N, C); with g, the weight gradients. Scratch from a.
    func backward(dout: UnsafePointer<Float>, x: UnsafePointer<Float>, s: DecoderActivations.Layer, a: inout DecoderActivations,
                  g: DecoderTensors.Block?, dx: UnsafeMutablePointer<Float>, N: Int) {
        let w = weights
        let dActivated = a.dActivated.zeroed(N * F)
        products.linearBackward(dinp: dActivated, dweight: g?.down, dbias: g?.downBias, dout: dout, inp: s.activated.pointer,
                       weight: w.down, layout: layout, N: N, I: F, O: C)
        let dGate = a.dGate.zeroed(N * F)
        switch kind {
        case .gelu:
            geluBackward(dinp: dGate, inp: s.gate.pointer, dout: dActivated, count: N * F)
        case .geglu, .swiglu:
            let dUp = a.dUp.zeroed(N * F)
            if kind == .geglu {
                gegluBackward(dgate: dGate, dup: dUp, dout: dActivated, gate: s.gate.pointer, up: s.up.pointer, count: N * F)
            } else {
                swigluBackward(dgate: dGate, dup: dUp, dout: dActivated, gate: s.gate.pointer, up: s.up.pointer, count: N * F)
            }
            products.linearBackward(dinp: dx, dweight: g?.up, dbias: nil, dout: dUp, inp: x, weight: w.up!, layout: layout, N: N, I: C, O: F)
        }
        products.linearBackward(dinp: dx, dweight: g?.gate, dbias: g?.gateBias, dout: dGate, inp: x, weight: w.gate, layout: layout, N: N, I: C, O: F)
    }
}
