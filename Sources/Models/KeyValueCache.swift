// The keys and values of the tokens decoded so far, per layer: what incremental decoding attends to.
// Dimensions: T capacity, W key/value width (C for GPT-2, G·D for Gemma 3).
import Kernels

final class KeyValueCache {
    let capacity: Int
    private(set) var position = 0
    let keys: [FloatBuffer]    // per layer (T, W)
    let values: [FloatBuffer]  // per layer (T, W)

    init(layers: Int, width: Int, capacity: Int) {
        self.capacity = capacity
        keys = (0..<layers).map { _ in FloatBuffer(count: capacity * width) }
        values = (0..<layers).map { _ in FloatBuffer(count: capacity * width) }
    }

    /// Throws unless `count` more tokens (at least one) fit.
    func checkRoom(for count: Int) throws {
        guard count > 0 else { throw ModelError.emptyBatch }
        guard position + count <= capacity else { throw ModelError.sequenceTooLong(length: position + count, limit: capacity) }
    }

    func advance(by count: Int) { position += count }
    func reset() { position = 0 }
}
