// The unit the suite times: something prepared once and stepped many times. New workloads (such as
// "gemma3-270m/pez-step") conform to this and are added to BenchmarkSuite's catalog.

public protocol Workload: AnyObject {
    /// Name as it appears in reports and in `--workloads`, e.g. "gpt2-124m/frozen-step".
    var name: String { get }
    /// Batch size and (longest) sequence length.
    var B: Int { get }
    var T: Int { get }
    /// Floating-point operations of one step, counted analytically; nil where not meaningful.
    var flops: Double? { get }
    /// Examples one step processes; nil where not meaningful.
    var examples: Int? { get }
    /// Tokens one step processes (or, decoding, generates); nil where not meaningful.
    var tokens: Int? { get }
    /// Anything a reader must know about this row.
    var note: String? { get }
    /// One step: what is timed.
    func step() throws
}

public extension Workload {
    var examples: Int? { nil }
    var tokens: Int? { nil }
    var note: String? { nil }
}
