// The keys and values of one token sequence, per layer: what later tokens of that sequence attend to, for
// incremental decoding and for many short continuations of one shared prefix (RLPrompt's rewards).
// Dimensions: T capacity, W key/value width (C for GPT-2, G·D for Gemma 3), n new tokens.
import Kernels

public final class KeyValueCache {
    public let capacity: Int
    /// Tokens held so far; the next token sits at this position.
    public private(set) var position = 0
    let keys: [FloatBuffer]    // per layer (T, W)
    let values: [FloatBuffer]  // per layer (T, W)
    let width: Int

    init(layers: Int, width: Int, capacity: Int) {
        self.capacity = capacity; self.width = width
        keys = (0..<layers).map { _ in FloatBuffer(count: capacity * width) }
        values = (0..<layers).map { _ in FloatBuffer(count: capacity * width) }
    }

    /// Memory one cached token takes: keys and values of every layer, in float32.
    public var bytesPerToken: Int { 2 * keys.count * width * MemoryLayout<Float>.size }

    func advance(by count: Int) { position += count }
    public func reset() { position = 0 }

    /// A new cache holding the same tokens, with room for `room` more: a shared start that continuations can
    /// extend without touching this one.
    public func copy(room: Int) -> KeyValueCache {
        let copy = KeyValueCache(layers: keys.count, width: width, capacity: position + room)
        for l in keys.indices {
            copy.keys[l].pointer.update(from: keys[l].pointer, count: position * width)
            copy.values[l].pointer.update(from: values[l].pointer, count: position * width)
        }
        copy.position = position
        return copy
    }
}

/// Scratch for continuations that leave their caches untouched: a copy of one cache's rows plus the new ones.
struct ContinuationScratch {
    var keys = GrowableBuffer(), values = GrowableBuffer()  // (past + n, W)

    /// Keys and values (past + n, W) of layer l for a sequence continuing `cache` with n new rows: the cache
    /// itself when extending it, else this scratch holding a copy of the cached rows. The new rows are copied in.
    mutating func storage(_ cache: KeyValueCache, layer l: Int, newKeys: UnsafePointer<Float>, newValues: UnsafePointer<Float>,
                          count n: Int, extend: Bool) -> (keys: UnsafeMutablePointer<Float>, values: UnsafeMutablePointer<Float>) {
        let W = cache.width, past = cache.position
        let k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
        if extend {
            (k, v) = (cache.keys[l].pointer, cache.values[l].pointer)
        } else {
            keys.reserve((past + n) * W); values.reserve((past + n) * W)
            (k, v) = (keys.pointer, values.pointer)
            k.update(from: cache.keys[l].pointer, count: past * W)
            v.update(from: cache.values[l].pointer, count: past * W)
        }
        (k + past * W).update(from: newKeys, count: n * W)
        (v + past * W).update(from: newValues, count: n * W)
        return (k, v)
    }
}

/// Checks shared by every architecture before a continuation; returns each new token's position.
func continuationPositions(batch: RaggedBatch, caches: [KeyValueCache], extend: Bool, context: Int?) throws -> [Int32] {
    precondition(batch.count == caches.count, "one cache per sequence")
    precondition(batch.sharedStart == 0, "a continuation's shared start is its cache")
    guard batch.tokenCount > 0 else { throw ModelError.emptyBatch }
    if extend { precondition(Set(caches.map(ObjectIdentifier.init)).count == caches.count, "a cache can be extended once per call") }
    var positions: [Int32] = []
    positions.reserveCapacity(batch.tokenCount)
    for (cache, n) in zip(caches, batch.lengths) {
        let end = cache.position + n
        if extend, end > cache.capacity { throw ModelError.cacheFull(needed: end, capacity: cache.capacity) }
        if let context, end > context { throw ModelError.sequenceTooLong(length: end, limit: context) }
        positions += (cache.position..<end).map(Int32.init)
    }
    return positions
}
