// Which OpenBLAS kernel family to ask for when OpenBLAS does not know the CPU. Debian's OpenBLAS 0.3.21 picks its
// kernels by CPU model number; a CPU newer than the library (Intel family 6 model 207 on the development machine)
// falls back to the generic "Prescott" kernels, and sgemm runs at 37 GFLOP/s instead of 225 with the AVX-512
// kernels (`legible bench --workloads sgemm --shapes 8x128`, both measured in one session, 2 threads). OpenBLAS
// reads OPENBLAS_CORETYPE once, when it loads, so the command-line tool re-executes itself with it set.
import Foundation

public enum BLASCore {
    /// The variable OpenBLAS reads; a value the user set is never overridden.
    public static let environmentKey = "OPENBLAS_CORETYPE"

    /// The kernel family to force, or nil to keep OpenBLAS's own choice: only when OpenBLAS fell back to its
    /// generic kernels, the user set nothing, and the CPU's flags show a family it does have kernels for.
    public static func suggested(currentCore: String, cpuFlags: Set<String>, environment: [String: String]) -> String? {
        guard environment[environmentKey] == nil, currentCore.lowercased() == "prescott" else { return nil }
        if cpuFlags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) {
            return cpuFlags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX"
        }
        if cpuFlags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The flags of the first processor in /proc/cpuinfo (empty where there is none).
    public static func cpuFlags(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> Set<String> {
        guard let line = cpuinfo?.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return [] }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    /// Re-executes this program with OPENBLAS_CORETYPE set when `suggested` says so; returns if it does not (or
    /// the exec fails, in which case the program runs on with OpenBLAS's own choice).
    public static func reexecutingIfGeneric() {
        guard let core = suggested(currentCore: BLAS.coreName, cpuFlags: cpuFlags(),
                                   environment: ProcessInfo.processInfo.environment) else { return }
        setenv(environmentKey, core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv(environmentKey)
    }
}
