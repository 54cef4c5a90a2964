// Byte-pair merging of one pre-token: merge ranks keyed by id pairs, applied lowest rank first.
// Follows `bpe` in OpenAI's gpt-2 `encoder.py` (all occurrences of the best pair merge left to right);
// long words use a heap of candidate merges, as Hugging Face tokenizers' `Word::merge_all` does.

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

    /// Words longer than this merge through the heap: the plain loop rescans every pair after each
    /// merge, which is faster for short words and quadratic for long ones.
    static let longWord = 48

    /// Merges `symbols` (initially one id per byte) in place until no pair has a rank.
    func apply(to symbols: inout [Int32]) {
        if symbols.count > Self.longWord {
            applyWithHeap(to: &symbols)
        } else {
            applyByScanning(to: &symbols)
        }
    }

    /// The reference algorithm: find the best-ranked pair, merge all its occurrences, repeat.
    func applyByScanning(to symbols: inout [Int32]) {
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

    /// Same result as `applyByScanning` in O(n log n): symbols form a linked list, and a min-heap
    /// holds candidate merges keyed by (rank, position), so equal ranks merge left to right. A merge
    /// only creates pairs whose rank is worse than its own (a pair's parts are older merges), so
    /// merging one occurrence at a time gives what merging all occurrences of a rank at once gives.
    func applyWithHeap(to symbols: inout [Int32]) {
        let n = symbols.count
        guard n > 1 else { return }
        let removed: Int32 = -1
        var next = [Int](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = i + 1 }
            buffer[n - 1] = -1
            count = n
        }
        var previous = [Int](unsafeUninitializedCapacity: n) { buffer, count in
            for i in 0..<n { buffer[i] = i - 1 }
            count = n
        }
        var heap = MinHeap()
        for i in 0..<(n - 1) {
            if let found = lookup(symbols[i], symbols[i + 1]) { heap.push(UInt64(found.rank) << 32 | UInt64(i)) }
        }
        while let top = heap.pop() {
            let rank = UInt32(truncatingIfNeeded: top >> 32)
            let i = Int(truncatingIfNeeded: top & 0xFFFF_FFFF)
            let j = next[i]
            // Skip candidates made stale by an earlier merge.
            guard symbols[i] != removed, j >= 0, let found = lookup(symbols[i], symbols[j]), found.rank == rank else {
                continue
            }
            symbols[i] = found.merged
            symbols[j] = removed
            let k = next[j]
            next[i] = k
            if k >= 0 { previous[k] = i }
            let p = previous[i]
            if p >= 0, let left = lookup(symbols[p], symbols[i]) { heap.push(UInt64(left.rank) << 32 | UInt64(p)) }
            if k >= 0, let right = lookup(symbols[i], symbols[k]) { heap.push(UInt64(right.rank) << 32 | UInt64(i)) }
        }
        symbols.removeAll { $0 == removed }
    }
}

/// A binary min-heap of packed (rank, position) keys.
private struct MinHeap {
    private var items: [UInt64] = []

    mutating func push(_ item: UInt64) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            if items[parent] <= item { break }
            items[child] = items[parent]
            child = parent
        }
        items[child] = item
    }

    mutating func pop() -> UInt64? {
        guard let last = items.popLast() else { return nil }
        guard !items.isEmpty else { return last }
        let top = items[0]
        let count = items.count
        var parent = 0
        while true {
            var child = 2 * parent + 1
            if child >= count { break }
            if child + 1 < count && items[child + 1] < items[child] { child += 1 }
            if last <= items[child] { break }
            items[parent] = items[child]
            parent = child
        }
        items[parent] = last
        return top
    }
}
