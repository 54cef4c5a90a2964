// Named tensors laid out back to back in one allocation. The same layout serves weights and gradients
// (llm.c's ParameterTensors), and the names are the checkpoint's, so loading and verifying read one map.
import Kernels

public struct ParameterLayout: Sendable {
    public struct Entry: Sendable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public private(set) var entries: [Entry] = []
    private var index: [String: Int] = [:]
    public private(set) var totalCount = 0

    public init() {}

    public mutating func add(_ name: String, _ shape: [Int]) {
        precondition(index[name] == nil, "parameter \(name) declared twice")
        index[name] = entries.count
        entries.append(Entry(name: name, shape: shape, offset: totalCount))
        // Keep every tensor 16-float aligned so SIMD loads of a row never straddle two tensors' padding.
        totalCount += (shape.reduce(1, *) + 15) / 16 * 16
    }

    public func entry(_ name: String) -> Entry {
        guard let i = index[name] else { preconditionFailure("unknown parameter \(name)") }
        return entries[i]
    }

    public func pointer(_ name: String, in base: UnsafeMutablePointer<Float>) -> UnsafeMutablePointer<Float> {
        base + entry(name).offset
    }
}
