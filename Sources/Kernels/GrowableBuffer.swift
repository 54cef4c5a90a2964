// A FloatBuffer that is replaced by a larger one only when a request exceeds it: activations are sized
// for the largest batch seen and then reused.
public struct GrowableBuffer {
    public private(set) var storage = FloatBuffer(count: 0)

    public init() {}

    public var pointer: UnsafeMutablePointer<Float> { storage.pointer }

    /// Makes room for `count` floats; contents are not kept when it grows.
    public mutating func reserve(_ count: Int) {
        if count > storage.count { storage = FloatBuffer(count: count) }
    }

    /// Makes room for `count` floats and zeroes them: backward buffers accumulate.
    public mutating func zeroed(_ count: Int) -> UnsafeMutablePointer<Float> {
        reserve(count)
        storage.pointer.update(repeating: 0, count: count)
        return storage.pointer
    }
}
