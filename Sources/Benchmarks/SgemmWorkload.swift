// sgemm alone at one of a workload's GEMM shapes, on scratch matrices: what OpenBLAS achieves on the shape,
// the yardstick for a workload's share. Same call form as the model (row-major, B transposed for the head).
import Kernels

public final class SgemmWorkload: Workload {
    public let shape: GEMMShape
    public let B: Int, T: Int
    let a: FloatBuffer, b: FloatBuffer, c: FloatBuffer   // (M,K), (K,N) or (N,K), (M,N)

    public init(shape: GEMMShape, B: Int, T: Int, seed: UInt64 = 2) {
        self.shape = shape; self.B = B; self.T = T
        a = FloatBuffer(count: shape.M * shape.K)
        b = FloatBuffer(count: shape.K * shape.N)
        c = FloatBuffer(count: shape.M * shape.N)
        var rng = SeededGenerator(seed: seed)
        for i in 0..<a.count { a[i] = rng.nextUnit() - 0.5 }
        for i in 0..<b.count { b[i] = 0.04 * (rng.nextUnit() - 0.5) }
    }

    public var name: String { "sgemm" }
    public var flops: Double? { shape.flops }
    public var note: String? { nil }

    public func step() throws {
        let s = shape
        sgemm(.none, s.transposeB ? .transposed : .none, M: s.M, N: s.N, K: s.K,
              A: a.pointer, lda: s.K, B: b.pointer, ldb: s.transposeB ? s.K : s.N, beta: 0, C: c.pointer, ldc: s.N)
    }
}
