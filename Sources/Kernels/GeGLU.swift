// GeGLU feed-forward gate (Shazeer 2020) as in Gemma: out = gelu_tanh(gate) ⊙ up.

/// out[i] = gelu(gate[i]) · up[i]
public func gegluForward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    // One pass: gelu(gate) stays in registers instead of going through `out` and back.
    var i = 0
    while i + vecWidth <= count {
        let x = loadVec(gate + i)
        let t = fastTanh(geluScale * (x + 0.044715 * x * x * x))
        storeVec(0.5 * x * (1 + t) * loadVec(up + i), out + i)
        i += vecWidth
    }
    while i < count {
        let x = gate[i]
        out[i] = 0.5 * x * (1 + fastTanh(geluScale * (x + 0.044715 * x * x * x))) * up[i]
        i += 1
    }
}

/// Accumulates dgate += gelu'(gate)·up·dout and dup += gelu(gate)·dout.
public func gegluBackward(
    dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
) {
    var i = 0
    while i + vecWidth <= count {
        let g = loadVec(gate + i), u = loadVec(up + i), d = loadVec(dout + i)
        let (value, derivative) = geluAndDerivative(g)
        storeVec(loadVec(dgate + i) + derivative * u * d, dgate + i)
        storeVec(loadVec(dup + i) + value * d, dup + i)
        i += vecWidth
    }
    while i < count {
        let g = Vec(repeating: gate[i])
        let t = fastTanh(geluScale * (g + 0.044715 * g * g * g))
        dgate[i] += geluDerivative(g)[0] * up[i] * dout[i]
        dup[i] += (0.5 * g * (1 + t))[0] * dout[i]
        i += 1
    }
}
