// The frozen model's matrix products in its precision. In float32 they are OpenBLAS's sgemm. In bfloat16 the
// weights are rounded to bfloat16 once, every product's input (activations forward, gradients backward) is rounded
// to bfloat16 as it enters, and products accumulate in float32: the arithmetic of PyTorch's bfloat16 autocast.
//
// Two routes compute that same arithmetic. Few rows (decoding, rollouts, short batches) go through a bfloat16 kernel
// (AVX512-BF16, else AVX2) on weights packed as bfloat16 panels, reading half the bytes of float32. Many rows go
// through sgemm on the rounded values held as float32 (a product of two bfloat16 values is exact in float32): on an
// AVX512-BF16 Xeon vdpbf16ps runs at about 0.6-0.7 times sgemm's FLOP rate (docs/BENCHMARKS.md), so a
// compute-bound product is faster in float32. The routes differ only in the order the float32 sums are taken.
import CBFloat16
import Dispatch

public enum Precision: String, Sendable, CaseIterable, Codable {
    case fp32, bf16
}

/// Rounds `count` floats to the nearest bfloat16 in place (ties to even).
public func roundToBFloat16(_ values: UnsafeMutablePointer<Float>, count: Int) {
    bf16_round_floats(values, values, count)
}

/// One matrix's bfloat16 copy as the kernel reads it: `columns` outputs of depth `depth`, in panels of 32 columns.
final class BFloat16Panels: @unchecked Sendable {
    let columns: Int, depth: Int
    private let storage: FloatBuffer
    var pointer: UnsafePointer<UInt16> { UnsafeRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self) }
    var panelCount: Int { (columns + Int(BF16_PANEL_COLUMNS) - 1) / Int(BF16_PANEL_COLUMNS) }

    /// Packs element (n, k) = source[n · columnStride + k · depthStride].
    init(source: UnsafePointer<Float>, columns: Int, depth: Int, columnStride: Int, depthStride: Int) {
        self.columns = columns; self.depth = depth
        let halves = bf16_packed_count(columns, depth)
        storage = FloatBuffer(count: (halves + 1) / 2)
        let out = UnsafeMutableRawPointer(storage.pointer).assumingMemoryBound(to: UInt16.self)
        bf16_pack(out, source, columns, depth, columnStride, depthStride)
    }
}

/// The matrix products of a model's frozen weights, in float32 or bfloat16. One model pass at a time: the rounded
/// inputs live in scratch buffers of this object.
public final class FrozenProducts: @unchecked Sendable {
    public let precision: Precision
    /// bfloat16 panels by the float32 weight they stand for (forward products, y = x · W).
    private var panels: [UnsafePointer<Float>: BFloat16Panels] = [:]
    private var roundedInput = GrowableBuffer()
    private var roundedRows = GrowableBuffer()
    /// Whether the bfloat16 kernel runs here (else every product takes the sgemm route).
    let kernelAvailable: Bool

    /// Rows up to which a product goes through the bfloat16 kernel. Measured on Gemma 3 270M's 2048 × 640 and
    /// 640 × 2048 matrices, one thread each (scripts/bf16-gemm-bench.c): on the AVX512-BF16 Xeon 2.5× sgemm at 8
    /// rows, 1.5× at 16, 1.1× at 24, level at 32, 0.7× at 64; the AVX2 kernel on a Zen 3 stays 1.1-1.3× ahead up
    /// to 64 rows, so 24 is the limit that is right on both.
    public static let kernelRowLimit = 24

    public init(precision: Precision) {
        self.precision = precision
        kernelAvailable = precision == .bf16 && bf16_kernel_supported()
    }

    /// Rounds a frozen matrix to bfloat16 in place and, where the kernel runs, keeps its packed copy for products with
    /// few rows. Call once per matrix, before any product with it.
    public func prepare(weight: UnsafeMutablePointer<Float>, layout: WeightLayout, I: Int, O: Int) {
        precondition(precision == .bf16, "only bfloat16 products prepare their weights")
        bf16_round_floats(weight, weight, I * O)
        guard kernelAvailable, panels[UnsafePointer(weight)] == nil else { return }
        // The kernel's columns are the outputs and its depth the inputs, whichever way the matrix is stored.
        let (columnStride, depthStride) = layout == .outputMajor ? (I, 1) : (1, O)
        panels[UnsafePointer(weight)] = BFloat16Panels(source: weight, columns: O, depth: I,
                                                       columnStride: columnStride, depthStride: depthStride)
    }

    /// out (N,O) = inp (N,I) · W + bias (O), as `linearForward` (Linear.swift), in this precision.
    public func linearForward(
        out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
        weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, layout: WeightLayout,
        N: Int, I: Int, O: Int
    ) {
        guard precision == .bf16 else {
            Kernels.linearForward(out: out, inp: inp, weight: weight, bias: bias, layout: layout, N: N, I: I, O: O)
            return
        }
        if N <= Self.kernelRowLimit, let packed = panels[weight] {
            if let bias {
                for n in 0..<N { (out + n * O).update(from: bias, count: O) }
            }
            multiply(out: out, inp: inp, panels: packed, N: N, accumulate: bias != nil)
            return
        }
        Kernels.linearForward(out: out, inp: rounded(inp, count: N * I), weight: weight, bias: bias, layout: layout,
                              N: N, I: I, O: O)
    }

    /// As `linearBackward` (Linear.swift), in this precision: d(out) is rounded to bfloat16 before the products.
    public func linearBackward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>?, dbias: UnsafeMutablePointer<Float>?,
        dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
        layout: WeightLayout, N: Int, I: Int, O: Int
    ) {
        guard precision == .bf16 else {
            Kernels.linearBackward(dinp: dinp, dweight: dweight, dbias: dbias, dout: dout, inp: inp, weight: weight,
                                   layout: layout, N: N, I: I, O: O)
            return
        }
        // The bias gradient sums d(out) itself; the products take its rounded copy.
        if let dbias {
            for n in 0..<N { addInPlace(dbias, dout + n * O, count: O) }
        }
        Kernels.linearBackward(dinp: dinp, dweight: dweight, dbias: nil, dout: rounded(dout, count: N * O), inp: inp,
                               weight: weight, layout: layout, N: N, I: I, O: O)
    }

    /// The values a product with a frozen matrix takes as its input: themselves in float32, rounded to bfloat16 (in
    /// scratch, valid until the next product) in bfloat16. For products computed outside this type.
    public func input(_ values: UnsafePointer<Float>, count: Int) -> UnsafePointer<Float> {
        precision == .bf16 ? rounded(values, count: count) : values
    }

    /// `values` rounded to bfloat16, in scratch.
    private func rounded(_ values: UnsafePointer<Float>, count: Int) -> UnsafePointer<Float> {
        roundedInput.reserve(count)
        bf16_round_floats(roundedInput.pointer, values, count)
        return UnsafePointer(roundedInput.pointer)
    }

    /// out (N, columns) (+)= inp (N, depth) · the packed matrix, its panels split across OpenBLAS's thread count.
    private func multiply(out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, panels packed: BFloat16Panels,
                          N: Int, accumulate: Bool) {
        let (K, columns) = (packed.depth, packed.columns)
        let width = 2 * ((K + 1) / 2)
        roundedRows.reserve((N * width + 1) / 2)
        let rows = UnsafeMutableRawPointer(roundedRows.pointer).assumingMemoryBound(to: UInt16.self)
        bf16_round_rows(rows, inp, N, K, K)
        let count = packed.panelCount
        // Below about a million multiply-adds a second thread costs more to wake than it saves.
        let workers = N * columns * K >= 1 << 20 ? min(BLAS.threads, count) : 1
        let rowsPointer = UnsafePointer(rows), b = packed.pointer
        if workers <= 1 {
            bf16_gemm_panels(rowsPointer, N, K, b, columns, out, columns, accumulate, 0, count)
            return
        }
        nonisolated(unsafe) let c = out
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            bf16_gemm_panels(rowsPointer, N, K, b, columns, c, columns, accumulate, count * w / workers, count * (w + 1) / workers)
        }
    }
}
