// A batch of sequences of different lengths, packed row after row with no padding: example b owns
// rows offsets[b] ..< offsets[b] + lengths[b]. Padding cannot change a real position because there is none.
//
// A batch may also begin with a shared start: rows 0 ..< sharedStart hold tokens every sequence begins with
// (`<bos>` and a prompt, say), stored and run once. Each sequence's own rows then sit at positions sharedStart
// onwards and attend to the start's keys and values as if they were their own; in backward the start's rows
// gather the gradient of every sequence.

public struct RaggedBatch: Equatable, Sendable {
    /// Each sequence's own rows, after the shared start if there is one.
    public let lengths: [Int]
    public let offsets: [Int]
    /// N: real tokens in the batch, the shared start's included once.
    public let tokenCount: Int
    /// Rows every sequence begins with; 0 when the sequences share nothing.
    public let sharedStart: Int

    public init(lengths: [Int], sharedStart: Int = 0) {
        precondition(lengths.allSatisfy { $0 > 0 }, "every sequence needs at least one token")
        precondition(sharedStart >= 0, "a shared start cannot be negative")
        self.lengths = lengths
        self.sharedStart = sharedStart
        var offsets: [Int] = []
        var total = sharedStart
        for length in lengths { offsets.append(total); total += length }
        self.offsets = offsets
        self.tokenCount = total
    }

    /// B
    public var count: Int { lengths.count }
    /// The longest sequence, its shared start included.
    public var maxLength: Int { sharedStart + (lengths.max() ?? 0) }

    /// Row of the last real token of each example: where a classifier reads its label.
    public var lastRows: [Int] { zip(offsets, lengths).map { $0 + $1 - 1 } }

    /// Position of every row within its sequence, (N): the shared start's rows, then each sequence's after them.
    public var positions: [Int32] {
        (0..<sharedStart).map(Int32.init) + lengths.flatMap { (sharedStart..<sharedStart + $0).map(Int32.init) }
    }

    /// The batch's causal attention problems: the shared start attending to itself (if there is one), then each
    /// sequence's own rows attending to the start and to themselves.
    public var attentionSegments: [AttentionSegment] {
        let start = sharedStart > 0 ? [AttentionSegment(row: 0, length: sharedStart, sharedRows: 0)] : []
        return start + zip(offsets, lengths).map { AttentionSegment(row: $0, length: $1, sharedRows: sharedStart) }
    }

    /// Floats of attention probabilities: H · Σ over segments of queries × keys.
    public func attentionSize(heads: Int) -> Int { heads * attentionSegments.reduce(0) { $0 + $1.length * $1.keys } }

    /// Where each segment's first head begins in the attention-probability buffer.
    func attentionOffsets(_ segments: [AttentionSegment], heads: Int) -> [Int] {
        var offsets: [Int] = [], total = 0
        offsets.reserveCapacity(segments.count)
        for segment in segments { offsets.append(heads * total); total += segment.length * segment.keys }
        return offsets
    }
}

/// `length` query rows from packed row `row`, seeing the first `sharedRows` rows of the batch (the shared start)
/// and then their own rows up to themselves. Query i sits at position sharedRows + i; key j at position j.
public struct AttentionSegment: Equatable, Sendable {
    public let row: Int
    public let length: Int
    public let sharedRows: Int

    /// Keys the segment's queries see: the shared rows, then its own.
    public var keys: Int { sharedRows + length }
    /// The packed row of key j.
    public func keyRow(_ j: Int) -> Int { j < sharedRows ? j : row + j - sharedRows }
}
