// Writes small GGUF files (version 3, little-endian, float32 tensors) for tests of the loaders: a valid tiny
// Gemma 3 or byte-level BPE vocabulary, or one with a metadata value changed. Layout as in ggml's docs/gguf.md and gguf-py's GGUFWriter.
import Foundation

public struct TinyGGUF {
    public enum Value {
        case uint32(UInt32), int32(Int32), uint64(UInt64), int64(Int64), float32(Float), string(String)
        case bool(Bool), strings([String]), floats([Float]), int32s([Int32])
    }

    public var metadata: [(key: String, value: Value)] = []
    /// Name, ggml dimensions (fastest-varying first) and values of each float32 tensor.
    public var tensors: [(name: String, dimensions: [Int], values: [Float])] = []

    public init() {}

    public subscript(key: String) -> Value? {
        get { metadata.first { $0.key == key }?.value }
        set {
            metadata.removeAll { $0.key == key }
            if let newValue { metadata.append((key, newValue)) }
        }
    }

    /// The GGUF metadata of a tiny Gemma 3 (1 layer, C = 8, H = 2, G = 1, D = 4, F = 16, V = 6) and, with
    /// `tensors`, every tensor it needs, filled with small distinct values.
    public static func gemma3(tensors withTensors: Bool = true) -> TinyGGUF {
        var file = TinyGGUF()
        file.metadata = [
            ("general.architecture", .string("gemma3")),
            ("gemma3.context_length", .uint32(64)),
            ("gemma3.embedding_length", .uint32(8)),
            ("gemma3.block_count", .uint32(1)),
            ("gemma3.feed_forward_length", .uint32(16)),
            ("gemma3.attention.head_count", .uint32(2)),
            ("gemma3.attention.head_count_kv", .uint32(1)),
            ("gemma3.attention.key_length", .uint32(4)),
            ("gemma3.attention.value_length", .uint32(4)),
            ("gemma3.attention.layer_norm_rms_epsilon", .float32(1e-6)),
            ("gemma3.attention.sliding_window", .uint32(4)),
            ("tokenizer.ggml.model", .string("llama")),
            ("tokenizer.ggml.tokens", .strings(["<pad>", "<eos>", "<bos>", "<unk>", "a", "b"])),
            ("tokenizer.ggml.scores", .floats([0, 0, 0, 0, -1, -2])),
            ("tokenizer.ggml.token_type", .int32s([3, 3, 3, 2, 1, 1])),
            ("tokenizer.ggml.padding_token_id", .uint32(0)),
            ("tokenizer.ggml.eos_token_id", .uint32(1)),
            ("tokenizer.ggml.bos_token_id", .uint32(2)),
            ("tokenizer.ggml.unknown_token_id", .uint32(3)),
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
        ]
        guard withTensors else { return file }
        // PyTorch shapes [out, in] are ggml dimensions [in, out].
        let (C, Q, K, F, D, V) = (8, 8, 4, 16, 4, 6)
        var shapes: [(String, [Int])] = [("token_embd.weight", [C, V]), ("output_norm.weight", [C])]
        shapes += [
            ("attn_norm.weight", [C]), ("attn_q.weight", [C, Q]), ("attn_k.weight", [C, K]), ("attn_v.weight", [C, K]),
            ("attn_q_norm.weight", [D]), ("attn_k_norm.weight", [D]), ("attn_output.weight", [Q, C]),
            ("post_attention_norm.weight", [C]), ("ffn_norm.weight", [C]), ("ffn_gate.weight", [C, F]),
            ("ffn_up.weight", [C, F]), ("ffn_down.weight", [F, C]), ("post_ffw_norm.weight", [C]),
        ].map { ("blk.0.\($0.0)", $0.1) }
        for (i, (name, dimensions)) in shapes.enumerated() {
            let count = dimensions.reduce(1, *)
            file.tensors.append((name, dimensions, (0..<count).map { Float(($0 * 7 + i) % 11 - 5) / 50 }))
        }
        return file
    }

    /// The metadata of a tiny byte-level BPE vocabulary as Qwen2 files store it (`tokenizer.ggml.model` "gpt2",
    /// `pre` "qwen2"): ids 0-255 are the single bytes (id = byte value), then "he" 256, "ll" 257, "hell" 258,
    /// "hello" 259, "12" 260, and `<|endoftext|>` 261 (control; bos, eos and padding), `<|im_start|>` 262 (control),
    /// `<tool_call>` 263 (user-defined) and `[PAD264]` 264 (unused).
    public static func byteLevelTokenizer(pre: String = "qwen2") -> TinyGGUF {
        var tokens = (0..<256).map { String(byteLevelCharacter($0)) }
        tokens += ["he", "ll", "hell", "hello", "12", "<|endoftext|>", "<|im_start|>", "<tool_call>", "[PAD264]"]
        var file = TinyGGUF()
        file.metadata = [
            ("general.architecture", .string("qwen2")),
            ("tokenizer.ggml.model", .string("gpt2")),
            ("tokenizer.ggml.pre", .string(pre)),
            ("tokenizer.ggml.tokens", .strings(tokens)),
            ("tokenizer.ggml.token_type", .int32s([Int32](repeating: 1, count: 261) + [3, 3, 4, 5])),
            ("tokenizer.ggml.merges", .strings(["h e", "l l", "he ll", "hell o", "1 2"])),
            ("tokenizer.ggml.bos_token_id", .uint32(261)),
            ("tokenizer.ggml.eos_token_id", .uint32(261)),
            ("tokenizer.ggml.padding_token_id", .uint32(261)),
            ("tokenizer.ggml.add_bos_token", .bool(false)),
        ]
        return file
    }

    /// The character GPT-2's byte alphabet spells `byte` with (`bytes_to_unicode` in OpenAI's `encoder.py`).
    public static func byteLevelCharacter(_ byte: Int) -> Character {
        let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
        if printable { return Character(Unicode.Scalar(UInt8(byte))) }
        let moved = (0..<byte).filter { !((33...126).contains($0) || (161...172).contains($0) || (174...255).contains($0)) }.count
        return Character(Unicode.Scalar(UInt32(256 + moved))!)
    }

    public var bytes: [UInt8] {
        var out = [UInt8]()
        func put<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { out += $0 } }
        func put(_ string: String) { put(UInt64(string.utf8.count)); out += Array(string.utf8) }
        out += Array("GGUF".utf8)
        put(UInt32(3))
        put(UInt64(tensors.count))
        put(UInt64(metadata.count))
        for (key, value) in metadata {
            put(key)
            switch value {
            case .uint32(let v): put(UInt32(4)); put(v)
            case .int32(let v): put(UInt32(5)); put(v)
            case .float32(let v): put(UInt32(6)); put(v.bitPattern)
            case .string(let v): put(UInt32(8)); put(v)
            case .bool(let v): put(UInt32(7)); put(UInt8(v ? 1 : 0))
            case .uint64(let v): put(UInt32(10)); put(v)
            case .int64(let v): put(UInt32(11)); put(v)
            case .strings(let v): put(UInt32(9)); put(UInt32(8)); put(UInt64(v.count)); v.forEach { put($0) }
            case .floats(let v): put(UInt32(9)); put(UInt32(6)); put(UInt64(v.count)); v.forEach { put($0.bitPattern) }
            case .int32s(let v): put(UInt32(9)); put(UInt32(5)); put(UInt64(v.count)); v.forEach { put($0) }
            }
        }
        var offset = 0
        for tensor in tensors {
            put(tensor.name)
            put(UInt32(tensor.dimensions.count))
            tensor.dimensions.forEach { put(UInt64($0)) }
            put(UInt32(0))  // F32
            put(UInt64(offset))
            offset += (tensor.values.count * 4 + 31) / 32 * 32
        }
        func pad() { while out.count % 32 != 0 { out.append(0) } }
        pad()
        for tensor in tensors {
            tensor.values.forEach { put($0.bitPattern) }
            pad()
        }
        return out
    }

    /// Writes the file as `name` in `directory` and returns its URL.
    @discardableResult
    public func write(_ name: String = "model.gguf", in directory: URL) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url
    }
}

/// A fresh temporary directory; the caller removes it.
public func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
