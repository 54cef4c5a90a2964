// A batch of sequences of different lengths, packed row after row with no padding: example b owns
// rows offsets[b] ..< offsets[b] + lengths[b]. Padding cannot change a real position because there is none.

public struct RaggedBatch: Equatable, Sendable {
    public let lengths: [Int]
    public let offsets: [Int]
    /// N: real tokens in the batch.
    public let tokenCount: Int

    public init(lengths: [Int]) {
        precondition(lengths.allSatisfy { $0 > 0 }, "every sequence needs at least one token")
        self.lengths = lengths
        var offsets: [Int] = []
        var total = 0
        for length in lengths { offsets.append(total); total += length }
        self.offsets = offsets
        self.tokenCount = total
    }

    /// B
    public var count: Int { lengths.count }
    public var maxLength: Int { lengths.max() ?? 0 }

    /// Row of the last real token of each example: where a classifier reads its label.
    public var lastRows: [Int] { zip(offsets, lengths).map { $0 + $1 - 1 } }

    /// Position of every row within its sequence, (N).
    public var positions: [Int32] { lengths.flatMap { (0..<$0).map(Int32.init) } }

    /// Floats of attention probabilities: H · Σ Lᵦ².
    public func attentionSize(heads: Int) -> Int { heads * lengths.reduce(0) { $0 + $1 * $1 } }

    /// Where example b's first head begins in the attention-probability buffer.
    func attentionOffset(example b: Int, heads: Int) -> Int {
        heads * lengths[..<b].reduce(0) { $0 + $1 * $1 }
    }

    /// attentionOffset for every example at once (B), without the quadratic rescans.
    func attentionOffsets(heads: Int) -> [Int] {
        var offsets: [Int] = [], total = 0
        offsets.reserveCapacity(lengths.count)
        for length in lengths { offsets.append(heads * total); total += length * length }
        return offsets
    }
}
