// Byte-pair merging of one pre-token: merge ranks keyed by id pairs, applied lowest rank first.
// Follows `bpe` in OpenAI's gpt-2 `encoder.py` (all occurrences of the best pair merge left to right).

/// The merge list as a hash table from an id pair to (rank, merged id).
struct BytePairMerges {
    private var keys: [UInt64]
    private var values: [UInt64]
    private let mask: Int
    private static let empty = UInt64.max

    /// `merges[r]` = (left, right, merged): rank r merges `left right` into `merged`.
    init(_ merges: [(left: Int32, right: Int32, merged: Int32)]) {
        var capacity = 16
        while capacity < merges.count * 2 { capacity *= 2 }
        keys = [UInt64](repeating: Self.empty, count: capacity)
        values = [UInt64](repeating: 0, count: capacity)
        mask = capacity - 1
        for (rank, merge) in merges.enumerated() {
            let key = Self.key(merge.left, merge.right)
            var slot = Self.slot(key, mask)
            while keys[slot] != Self.empty && keys[slot] != key { slot = (slot + 1) & mask }
            // The first occurrence of a pair has the better rank and is the one BPE applies.
            if keys[slot] == key { continue }
            keys[slot] = key
            values[slot] = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merge.merged))
        }
    }

    @inline(__always)
    private static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
    }

    /// The rank and merged id of `left right`, or nil when the pair never merges.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        let key = Self.key(left, right)
        var slot = Self.slot(key, mask)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let found = keys[slot]
                if found == key {
                    let value = values[slot]
                    return (UInt32(truncatingIfNeeded: value >> 32), Int32(bitPattern: UInt32(truncatingIfNeeded: value)))
                }
                if found == Self.empty { return nil }
                slot = (slot + 1) & mask
            }
        }
    }

    /// Merges `symbols` (initially one id per byte) in place until no pair has a rank.
    func apply(to symbols: inout [Int32]) {
        while symbols.count > 1 {
            var bestRank = UInt32.max
            var best: (left: Int32, right: Int32, merged: Int32) = (0, 0, 0)
            for i in 0..<(symbols.count - 1) {
                if let found = lookup(symbols[i], symbols[i + 1]), found.rank < bestRank {
                    bestRank = found.rank
                    best = (symbols[i], symbols[i + 1], found.merged)
                }
            }
            if bestRank == UInt32.max { return }
            var read = 0
            var write = 0
            let count = symbols.count
            while read < count {
                if read + 1 < count && symbols[read] == best.left && symbols[read + 1] == best.right {
                    symbols[write] = best.merged
                    read += 2
                } else {
                    symbols[write] = symbols[read]
                    read += 1
                }
                write += 1
            }
            symbols.removeLast(count - write)
        }
    }
}
