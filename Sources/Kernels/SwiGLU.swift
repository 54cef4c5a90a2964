// SwiGLU feed-forward gate (Shazeer 2020) as in Llama and Qwen2: out = silu(gate) ⊙ up, silu(x) = x·σ(x).

/// σ(x) and silu(x) = x·σ(x); σ from the vectorized exp, exact to its 2e-7 relative error.
@inline(__always)
func sigmoidAndSilu(_ x: Vec) -> (sigmoid: Vec, silu: Vec) {
    let sigmoid = 1 / (1 + fastExp(-x))
    return (sigmoid, x * sigmoid)
}

/// out[i] = silu(gate[i]) · up[i]
public func swigluForward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        storeVec(sigmoidAndSilu(loadVec(gate + i)).silu * loadVec(up + i), out + i)
        i += vecWidth
    }
    while i < count {
        out[i] = sigmoidAndSilu(Vec(repeating: gate[i])).silu[0] * up[i]
        i += 1
    }
}

/// Accumulates dgate += silu'(gate)·up·dout and dup += silu(gate)·dout, silu'(x) = σ(x)·(1 + x·(1 − σ(x))).
public func swigluBackward(
    dgate: UnsafeMutablePointer<Float>, dup: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>,
    gate: UnsafePointer<Float>, up: UnsafePointer<Float>, count: Int
) {
    @inline(__always) func step(_ g: Vec, _ u: Vec, _ d: Vec) -> (dgate: Vec, dup: Vec) {
        let (sigmoid, silu) = sigmoidAndSilu(g)
        return (sigmoid * (1 + g * (1 - sigmoid)) * u * d, silu * d)
    }
    var i = 0
    while i + vecWidth <= count {
        let (dg, du) = step(loadVec(gate + i), loadVec(up + i), loadVec(dout + i))
        storeVec(loadVec(dgate + i) + dg, dgate + i)
        storeVec(loadVec(dup + i) + du, dup + i)
        i += vecWidth
    }
    while i < count {
        let (dg, du) = step(Vec(repeating: gate[i]), Vec(repeating: up[i]), Vec(repeating: dout[i]))
        dgate[i] += dg[0]
        dup[i] += du[0]
        i += 1
    }
}
