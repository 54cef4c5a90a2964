// Row-major single-precision matrix products through OpenBLAS's cblas_sgemm, and BLAS facts
// (core name, thread count) for reports.
import CBLAS
import Dispatch

public enum Transpose { case none, transposed }

/// C (M,N) = alpha · op(A) (M,K) · op(B) (K,N) + beta · C, all row-major with leading dimensions.
@inline(__always)
public func sgemm(
    _ transA: Transpose, _ transB: Transpose, M: Int, N: Int, K: Int,
    alpha: Float = 1, A: UnsafePointer<Float>, lda: Int, B: UnsafePointer<Float>, ldb: Int,
    beta: Float, C: UnsafeMutablePointer<Float>, ldc: Int
) {
    if M == 0 || N == 0 { return }
    if M == 1 {
        // One row (a decoding step): a matrix-vector product. Debian's OpenBLAS 0.3.21 runs sgemm with M = 1
        // through its packing GEMM path, copying all of B on every call; sgemv streams B once.
        let incx = transA == .none ? 1 : lda
        if transB == .none {
            cblas_sgemv(CblasRowMajor, CblasTrans, Int32(K), Int32(N), alpha, B, Int32(ldb), A, Int32(incx), beta, C, 1)
        } else {
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(N), Int32(K), alpha, B, Int32(ldb), A, Int32(incx), beta, C, 1)
        }
        return
    }
    cblas_sgemm(
        CblasRowMajor, transA == .none ? CblasNoTrans : CblasTrans,
        transB == .none ? CblasNoTrans : CblasTrans,
        Int32(M), Int32(N), Int32(K), alpha, A, Int32(lda), B, Int32(ldb), beta, C, Int32(ldc))
}

public enum BLAS {
    /// The kernel family OpenBLAS picked for this CPU (or the one OPENBLAS_CORETYPE forced).
    public static var coreName: String {
        guard let name = openblas_get_corename() else { return "unknown" }
        return String(cString: name)
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }

    public static func setThreads(_ n: Int) { openblas_set_num_threads(Int32(n)) }

    /// Runs body with OpenBLAS on one thread: for products too small to share, where waking OpenBLAS's pool only
    /// leaves its threads spinning on the cores other work needs.
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        let n = threads
        if n > 1 { setThreads(1) }
        defer { if n > 1 { setThreads(n) } }
        return try body()
    }
}

/// Runs body(i) for i in 0..<count, on as many workers as OpenBLAS has threads (`parallel`), with OpenBLAS itself
/// single-threaded meanwhile: small GEMMs (attention per example and head) then run side by side instead of
/// each being split across OpenBLAS threads that spin and yield between them. Items must touch disjoint memory.
/// OpenBLAS's thread count is process-wide: run one model pass at a time per process.
func withSmallGEMMs(count: Int, parallel: Bool, _ body: (Int) -> Void) {
    let threads = BLAS.threads
    if threads > 1 { BLAS.setThreads(1) }
    defer { if threads > 1 { BLAS.setThreads(threads) } }
    let workers = parallel ? min(threads, count) : 1
    if workers <= 1 {
        for i in 0..<count { body(i) }
        return
    }
    // Interleaved items: the heads of one example go to different workers, so ragged lengths balance out.
    DispatchQueue.concurrentPerform(iterations: workers) { w in
        var i = w
        while i < count { body(i); i += workers }
    }
}
