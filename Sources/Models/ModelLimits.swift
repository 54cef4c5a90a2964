// Bounds on every model configuration Legible accepts, and the checks GPT2Config and Gemma3Config share.
// A config.json or GGUF file is data from anywhere: each value is checked before anything is sized,
// divided or indexed by it, so a corrupt or hostile file is refused with a message instead of overflowing
// an Int, dividing by zero, corrupting the heap or asking for terabytes.
import Foundation

/// Generous but finite: each bound is several times what the largest released models of any family use,
/// so no real model is refused, and with every value inside them no size computed from them (the parameter
/// count, a layer's matrices, a tensor's byte count) can overflow an Int.
public enum ModelLimits {
    /// Transformer blocks. Llama 3.1 405B has 126, GPT-2 XL 48, Gemma 3 27B 62.
    public static let layers = 1_024
    /// Residual width C. Llama 3.1 405B has 16,384; GPT-3 175B 12,288.
    public static let width = 65_536
    /// Attention heads (query or key/value). Llama 3.1 405B has 128.
    public static let heads = 1_024
    /// Channels per head D. Every released model uses at most 256.
    public static let headSize = 1_024
    /// Feed-forward width F: four times the largest width. Llama 3.1 405B has 53,248.
    public static let feedForwardWidth = 4 * width
    /// Vocabulary V, 2^24 = 16,777,216. Gemma 3 has 262,144, the largest in common use.
    public static let vocabularySize = 1 << 24
    /// Positions, 2^24. Gemma 3 reads 131,072 and Llama 4 Scout 10 million; attention over more than a few
    /// thousand tokens on a CPU is out of reach anyway.
    public static let context = 1 << 24

    /// Parameters are float32 in one allocation, so they must fit in this machine's memory (training
    /// needs as much again for the gradients). Within the bounds above a model may have up to ~2^50 floats
    /// (4 PB): the per-key bounds keep the arithmetic exact, this one keeps the allocation real. A mapping
    /// larger than memory may still succeed, lazily, and the process is killed when it is touched.
    public static var parameterBytes: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }

    /// `value` of `key` must lie in `range`.
    static func check(_ key: String, _ value: Int, _ range: ClosedRange<Int>) throws {
        guard range.contains(value) else {
            throw ModelLoadError.invalidValue(key: key, value: "\(value)",
                                              expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
    }

    /// A float `value` of `key` must be finite and at least (or, with `orZero: false`, above) zero.
    static func checkNonNegative(_ key: String, _ value: Float, orZero: Bool = true) throws {
        guard value.isFinite, orZero ? value >= 0 : value > 0 else {
            throw ModelLoadError.invalidValue(key: key, value: "\(value)",
                                              expected: orZero ? "a finite number ≥ 0" : "a finite number > 0")
        }
    }

    /// `parameterCount` float32 parameters must fit in memory. Call once every dimension is within bounds:
    /// the count is then below 2^50 and its byte count cannot overflow.
    static func checkMemory(parameterCount: Int, model: String) throws {
        let bytes = parameterCount * MemoryLayout<Float>.size
        guard bytes <= parameterBytes else {
            throw ModelLoadError.tooLarge(model: model, bytes: bytes, limit: parameterBytes)
        }
    }
}
