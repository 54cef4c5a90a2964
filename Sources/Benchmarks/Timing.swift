// Wall-clock timing of a step: warm-up runs first (buffers sized, caches and BLAS threads woken),
// then the median of the measured runs, which a shared, noisy machine disturbs least.
import Dispatch

public struct Timing: Sendable, Equatable {
    /// Seconds of each measured run, in the order they ran.
    public let samples: [Double]

    public init(samples: [Double]) {
        precondition(!samples.isEmpty, "a timing needs at least one sample")
        self.samples = samples
    }

    public var median: Double {
        let sorted = samples.sorted(), n = sorted.count
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2
    }
    public var min: Double { samples.min()! }
    public var max: Double { samples.max()! }
}

/// Seconds since an arbitrary origin, monotonic.
@inline(__always)
public func monotonicSeconds() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

/// Runs `body` `warmup` times untimed, then `repeats` times timed.
public func measure(warmup: Int, repeats: Int, _ body: () throws -> Void) rethrows -> Timing {
    precondition(repeats >= 1, "at least one measured run")
    for _ in 0..<warmup { try body() }
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = monotonicSeconds()
        try body()
        samples.append(monotonicSeconds() - start)
    }
    return Timing(samples: samples)
}
