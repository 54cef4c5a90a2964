// GPT-2's parameter names, shapes and pointer views. Names follow Hugging Face's checkpoints (without the
// optional `transformer.` prefix); the four projections keep Conv1D's [in, out] layout. Dimensions:
// V vocabulary, P positions, C channels.
import Kernels

extension GPT2Config {
    /// Every parameter, once: the loader, the verifier and the gradient views all read this map.
    public var parameterLayout: ParameterLayout {
        let C = width
        var layout = ParameterLayout()
        layout.add("wte.weight", [vocabularySize, C])
        layout.add("wpe.weight", [positions, C])
        for l in 0..<layers {
            layout.add("h.\(l).ln_1.weight", [C])
            layout.add("h.\(l).ln_1.bias", [C])
            layout.add("h.\(l).attn.c_attn.weight", [C, 3 * C])
            layout.add("h.\(l).attn.c_attn.bias", [3 * C])
            layout.add("h.\(l).attn.c_proj.weight", [C, C])
            layout.add("h.\(l).attn.c_proj.bias", [C])
            layout.add("h.\(l).ln_2.weight", [C])
            layout.add("h.\(l).ln_2.bias", [C])
            layout.add("h.\(l).mlp.c_fc.weight", [C, 4 * C])
            layout.add("h.\(l).mlp.c_fc.bias", [4 * C])
            layout.add("h.\(l).mlp.c_proj.weight", [4 * C, C])
            layout.add("h.\(l).mlp.c_proj.bias", [C])
        }
        layout.add("ln_f.weight", [C])
        layout.add("ln_f.bias", [C])
        return layout
    }
}

/// Pointers to each GPT-2 tensor inside one allocation (weights or their gradients).
struct GPT2Tensors {
    struct Block {
        let ln1Weight, ln1Bias: UnsafeMutablePointer<Float>               // (C)
        let qkvWeight, qkvBias: UnsafeMutablePointer<Float>               // (C, 3C), (3C)
        let attentionProjWeight, attentionProjBias: UnsafeMutablePointer<Float>  // (C, C), (C)
        let ln2Weight, ln2Bias: UnsafeMutablePointer<Float>               // (C)
        let fcWeight, fcBias: UnsafeMutablePointer<Float>                 // (C, 4C), (4C)
        let fcProjWeight, fcProjBias: UnsafeMutablePointer<Float>         // (4C, C), (C)
    }

    let wte: UnsafeMutablePointer<Float>        // (V, C)
    let wpe: UnsafeMutablePointer<Float>        // (P, C)
    let blocks: [Block]
    let lnfWeight, lnfBias: UnsafeMutablePointer<Float>  // (C)

    init(layout: ParameterLayout, layers: Int, base: UnsafeMutablePointer<Float>) {
        let p = { (name: String) in layout.pointer(name, in: base) }
        wte = p("wte.weight")
        wpe = p("wpe.weight")
        blocks = (0..<layers).map { l in
            Block(
                ln1Weight: p("h.\(l).ln_1.weight"), ln1Bias: p("h.\(l).ln_1.bias"),
                qkvWeight: p("h.\(l).attn.c_attn.weight"), qkvBias: p("h.\(l).attn.c_attn.bias"),
                attentionProjWeight: p("h.\(l).attn.c_proj.weight"), attentionProjBias: p("h.\(l).attn.c_proj.bias"),
                ln2Weight: p("h.\(l).ln_2.weight"), ln2Bias: p("h.\(l).ln_2.bias"),
                fcWeight: p("h.\(l).mlp.c_fc.weight"), fcBias: p("h.\(l).mlp.c_fc.bias"),
                fcProjWeight: p("h.\(l).mlp.c_proj.weight"), fcProjBias: p("h.\(l).mlp.c_proj.bias"))
        }
        lnfWeight = p("ln_f.weight")
        lnfBias = p("ln_f.bias")
    }
}
