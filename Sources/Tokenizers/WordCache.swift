// A bounded cache from a pre-token's bytes to its BPE ids, looked up without allocating.
// Plays the role of the `cache` dict in OpenAI's gpt-2 `encoder.py`; keys and ids live in two flat arenas.

struct WordCache {
    private struct Slot {
        var hash: UInt64 = 0
        var keyStart: Int32 = 0
        var keyLength: Int32 = -1  // -1: empty
        var valueStart: Int32 = 0
        var valueLength: Int32 = 0
    }

    private var slots: [Slot]
    private var keyBytes: [UInt8] = []
    private var values: [Int32] = []
    private var count = 0
    private let maxEntries: Int
    private let maxArenaBytes: Int

    /// Holds up to `maxEntries` words; when full it starts over empty (text rarely has that many distinct words).
    init(maxEntries: Int = 1 << 16, maxArenaBytes: Int = 1 << 24) {
        self.maxEntries = maxEntries
        self.maxArenaBytes = maxArenaBytes
        var capacity = 16
        while capacity < maxEntries * 2 { capacity *= 2 }
        slots = [Slot](repeating: Slot(), count: capacity)
    }

    @inline(__always)
    static func hash(_ word: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in word {
            h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// Appends the cached ids of `word` to `output` and returns true, or returns false on a miss.
    @inline(__always)
    func appendCached(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, to output: inout [Int32]) -> Bool {
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash >> 20) & mask
        return slots.withUnsafeBufferPointer { slots in
            while true {
                let slot = slots[index]
                if slot.keyLength < 0 { return false }
                if slot.hash == hash && Int(slot.keyLength) == word.count {
                    let same = keyBytes.withUnsafeBufferPointer { keys in
                        memoryEqual(keys.baseAddress! + Int(slot.keyStart), word.baseAddress!, word.count)
                    }
                    if same {
                        let start = Int(slot.valueStart)
                        output.append(contentsOf: values[start..<(start + Int(slot.valueLength))])
                        return true
                    }
                }
                index = (index + 1) & mask
            }
        }
    }

    /// Remembers `ids` as the encoding of `word` (which must not be cached yet).
    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, ids: ArraySlice<Int32>) {
        if count >= maxEntries || keyBytes.count + word.count > maxArenaBytes {
            removeAll()
        }
        let mask = slots.count - 1
        var index = Int(truncatingIfNeeded: hash >> 20) & mask
        while slots[index].keyLength >= 0 { index = (index + 1) & mask }
        slots[index] = Slot(
            hash: hash, keyStart: Int32(keyBytes.count), keyLength: Int32(word.count),
            valueStart: Int32(values.count), valueLength: Int32(ids.count))
        keyBytes.append(contentsOf: word)
        values.append(contentsOf: ids)
        count += 1
    }

    mutating func removeAll() {
        for i in slots.indices { slots[i].keyLength = -1 }
        keyBytes.removeAll(keepingCapacity: true)
        values.removeAll(keepingCapacity: true)
        count = 0
    }
}

@inline(__always)
private func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
    for i in 0..<count where a[i] != b[i] { return false }
    return true
}
