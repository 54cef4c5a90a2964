// GELU in its tanh form (GPT-2's gelu_new, Gemma's gelu_pytorch_tanh):
// gelu(x) = ½x(1 + tanh(√(2/π)(x + 0.044715x³))).

let geluScale: Float = 0.797_884_56  // √(2/π)

/// out[i] = gelu(inp[i])
public func geluForward(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        let x = loadVec(inp + i)
        let t = fastTanh(geluScale * (x + 0.044715 * x * x * x))
        storeVec(0.5 * x * (1 + t), out + i)
        i += vecWidth
    }
    while i < count {
        let x = inp[i]
        out[i] = 0.5 * x * (1 + fastTanh(geluScale * (x + 0.044715 * x * x * x)))
        i += 1
    }
}

@inline(__always)
func geluDerivative(_ x: Vec) -> Vec { geluAndDerivative(x).derivative }

/// gelu(x) and gelu'(x) from one tanh.
@inline(__always)
func geluAndDerivative(_ x: Vec) -> (value: Vec, derivative: Vec) {
    let inner = geluScale * (x + 0.044715 * x * x * x)
    let t = fastTanh(inner)
    let sech2 = 1 - t * t
    return (0.5 * x * (1 + t), 0.5 * (1 + t) + 0.5 * x * sech2 * geluScale * (1 + 3 * 0.044715 * x * x))
}

/// dinp[i] += gelu'(inp[i]) · dout[i]
public func geluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, count: Int) {
    var i = 0
    while i + vecWidth <= count {
        storeVec(loadVec(dinp + i) + geluDerivative(loadVec(inp + i)) * loadVec(dout + i), dinp + i)
        i += vecWidth
    }
    while i < count {
        dinp[i] += geluDerivative(Vec(repeating: inp[i]))[0] * dout[i]
        i += 1
    }
}
