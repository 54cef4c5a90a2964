// Peak resident memory of this process from Linux's /proc/self/status (VmHWM), and its reset
// (writing "5" to /proc/self/clear_refs, Linux ≥ 4.0) so that each workload reports its own peak.
import Foundation
import Kernels

public enum ResidentMemory {
    /// VmHWM in MB (10⁶ bytes); nil where /proc is not available.
    public static func peakMB() -> Double? { statusField("VmHWM").map { $0 / 1000 } }

    /// VmRSS in MB; nil where /proc is not available.
    public static func currentMB() -> Double? { statusField("VmRSS").map { $0 / 1000 } }

    /// Sets the peak back to the current resident size. Returns false where the kernel does not allow it;
    /// the peak then covers everything the process did before.
    @discardableResult
    public static func resetPeak() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do { try handle.write(contentsOf: Data("5".utf8)) } catch { return false }
        return true
    }

    /// A "Name:   1234 kB" field of /proc/self/status, in kB.
    private static func statusField(_ name: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.count >= 2, let kB = Double(fields[1]) { return kB }
        }
        return nil
    }
}

/// OpenBLAS's core name without the padding some builds append ("Zen " → "Zen").
public var blasCoreName: String { BLAS.coreName.trimmingCharacters(in: .whitespacesAndNewlines) }
