// bfloat16 products: the rounding, the AVX512-BF16 and AVX2 kernels against their plain C twin, and FrozenProducts against
// the same arithmetic written out in Double (weights and inputs rounded to bfloat16, sums in full precision).
//
// Tolerances. A product of two bfloat16 values is exact in float32, so the kernel, its C twin, the sgemm route and
// the Double reference differ only in how float32 sums are taken: 1e-5 relative to the largest output, as for the
// float32 kernels (KernelParityTests), over at most a few hundred terms. Against float32 products, bfloat16 rounds
// each input by up to 2⁻⁸ relative; over random sums that stays well within 2e-2 relative to the largest output,
// and must not be zero (the rounding happened).
import CBFloat16
import Kernels
import Testing
import TestSupport

@Suite struct ReducedPrecisionTests {
    let tolerance = 1e-5

    func rounded(_ values: [Float]) -> [Float] {
        var copy = values
        copy.withUnsafeMutableBufferPointer { roundToBFloat16($0.baseAddress!, count: $0.count) }
        return copy
    }

    @Test func roundingIsToNearestEven() {
        let ulp: Float = 1.0 / 128  // bfloat16 keeps 7 fraction bits: the spacing just above 1
        let cases: [(Float, Float)] = [
            (1, 1), (-2.5, -2.5), (0, 0),
            (1 + ulp / 2, 1),                  // halfway, to the even neighbour below
            (1 + 3 * ulp / 2, 1 + 2 * ulp),    // halfway, to the even neighbour above
            (1 + ulp / 2 + ulp / 64, 1 + ulp), // just past halfway, up
            (.infinity, .infinity), (-.infinity, -.infinity),
        ]
        let out = rounded(cases.map(\.0))
        for (i, (input, expected)) in cases.enumerated() {
            #expect(out[i] == expected, "\(input) rounded to \(out[i]), expected \(expected)")
        }
        #expect(rounded([.nan])[0].isNaN)
        let values = randomArray(1000, seed: 9, scale: 50)
        let worst = zip(rounded(values), values).map { abs(Double($0 - $1)) / abs(Double($1)) }.max()!
        #expect(worst <= 1.0 / 256 && worst > 0)  // half the spacing: 2⁻⁸ relative with 8 significant bits
    }

    /// The kernels this CPU runs (AVX512-BF16 and AVX2 on a recent Intel, AVX2 alone on an AMD Zen 3), each with the
    /// same signature as bf16_gemm_panels.
    typealias Kernel = @convention(c) (UnsafePointer<UInt16>?, Int, Int, UnsafePointer<UInt16>?, Int, UnsafeMutablePointer<Float>?,
                                       Int, Bool, Int, Int) -> Void
    static var kernels: [(name: String, run: Kernel)] {
        (bf16_avx512_kernel_supported() ? [("AVX512-BF16", bf16_gemm_panels_avx512)] : [])
            + (bf16_avx2_kernel_supported() ? [("AVX2", bf16_gemm_panels_avx2)] : [])
    }

    /// Every kernel this CPU runs against the twin on shapes with every kind of tail: rows past a tile (8 for
    /// AVX512, 4 for AVX2), columns past a panel of 32 and past a group of 8, odd depths; overwriting and accumulating.
    @Test(arguments: [(1, 1, 1), (3, 31, 7), (8, 32, 64), (13, 33, 65), (33, 70, 2), (2, 200, 640), (7, 9, 3)])
    func kernelMatchesItsTwin(M: Int, N: Int, K: Int) throws {
        // Every x86-64 machine CI runs on has AVX2; a CPU with neither kernel takes the sgemm route, tested below.
        try #require(!Self.kernels.isEmpty, "this CPU has neither AVX512-BF16 nor AVX2")
        let a = randomArray(M * K, seed: 1), b = randomArray(N * K, seed: 2), start = randomArray(M * N, seed: 3)
        let width = 2 * ((K + 1) / 2)
        var rows = [UInt16](repeating: 0, count: M * width), panels = [UInt16](repeating: 0, count: bf16_packed_count(N, K))
        bf16_round_rows(&rows, a, M, K, K)
        bf16_pack(&panels, b, N, K, K, 1)
        for kernel in Self.kernels {
            for accumulate in [false, true] {
                var fast = start, twin = start
                kernel.run(rows, M, K, panels, N, &fast, N, accumulate, 0, (N + 31) / 32)
                bf16_gemm_reference(rows, M, K, panels, N, &twin, N, accumulate)
                #expect(relativeError(fast, twin) < tolerance, "\(kernel.name) M \(M) N \(N) K \(K) accumulate \(accumulate)")
            }
        }
        // The dispatcher runs the first kernel listed, exactly.
        var chosen = start, first = start
        bf16_gemm_panels(rows, M, K, panels, N, &chosen, N, false, 0, (N + 31) / 32)
        Self.kernels[0].run(rows, M, K, panels, N, &first, N, false, 0, (N + 31) / 32)
        #expect(chosen == first)
        // The twin is the product of the rounded values.
        var twin = [Float](repeating: 0, count: M * N)
        bf16_gemm_reference(rows, M, K, panels, N, &twin, N, false)
        let reference = Reference.linear(rounded(a).doubles, rounded(b).doubles, [Double](repeating: 0, count: N),
                                         layout: .outputMajor, N: M, I: K, O: N)
        #expect(relativeError(twin.doubles, reference) < tolerance)
    }

    /// FrozenProducts in bfloat16 through both routes (few rows: the kernel where the CPU has it; many rows: sgemm on
    /// the rounded values), both weight layouts, with a bias, and the frozen backward: each the rounded arithmetic
    /// written out in Double, and each different from float32 by no more than bfloat16's rounding allows.
    @Test(arguments: [(WeightLayout.outputMajor, 5), (.outputMajor, 40), (.inputMajor, 5), (.inputMajor, 40)])
    func productsAreTheRoundedArithmetic(layout: WeightLayout, N: Int) {
        let (I, O) = (65, 47)
        let x = randomArray(N * I, seed: 4), w = randomArray(I * O, seed: 5), b = randomArray(O, seed: 6)
        let dy = randomArray(N * O, seed: 7), dxStart = randomArray(N * I, seed: 8)
        let products = FrozenProducts(precision: .bf16)
        let weight = FloatBuffer(w), input = FloatBuffer(x), bias = FloatBuffer(b), dout = FloatBuffer(dy)
        products.prepare(weight: weight.pointer, layout: layout, I: I, O: O)
        #expect(weight.array == rounded(w))
        let out = FloatBuffer(count: N * O), dx = FloatBuffer(dxStart)
        products.linearForward(out: out.pointer, inp: input.pointer, weight: weight.pointer, bias: bias.pointer,
                               layout: layout, N: N, I: I, O: O)
        products.linearBackward(dinp: dx.pointer, dweight: nil, dbias: nil, dout: dout.pointer, inp: input.pointer,
                                weight: weight.pointer, layout: layout, N: N, I: I, O: O)
        let forward = Reference.linear(rounded(x).doubles, rounded(w).doubles, b.doubles, layout: layout, N: N, I: I, O: O)
        let backward = Reference.linearBackward(rounded(dy).doubles, rounded(x).doubles, rounded(w).doubles,
                                                layout: layout, N: N, I: I, O: O)
        #expect(relativeError(out.array.doubles, forward) < tolerance)
        let dxAdded = zip(dx.array, dxStart).map { Double($0 - $1) }
        #expect(relativeError(dxAdded, backward.dx) < tolerance)

        let exact = Reference.linear(x.doubles, w.doubles, b.doubles, layout: layout, N: N, I: I, O: O)
        let fromFloat32 = relativeError(out.array.doubles, exact)
        #expect(fromFloat32 > tolerance && fromFloat32 < 2e-2)
    }

    @Test func float32ProductsAreSgemmItself() {
        let (N, I, O) = (3, 9, 4)
        let x = FloatBuffer(randomArray(N * I, seed: 1)), w = FloatBuffer(randomArray(I * O, seed: 2))
        let viaProducts = FloatBuffer(count: N * O), direct = FloatBuffer(count: N * O)
        FrozenProducts(precision: .fp32).linearForward(out: viaProducts.pointer, inp: x.pointer, weight: w.pointer, bias: nil,
                                                       layout: .outputMajor, N: N, I: I, O: O)
        linearForward(out: direct.pointer, inp: x.pointer, weight: w.pointer, bias: nil, layout: .outputMajor, N: N, I: I, O: O)
        #expect(viaProducts.array == direct.array)
    }
}
