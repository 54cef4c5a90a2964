// Writes the fuzz targets' seed corpus, Fuzz/corpus/<target>/: a few small valid inputs per file format, made
// with the layouts and encoders Legible itself uses and each read back through its reader before it is kept, so
// every seed gets past the checks and the fuzzer starts from inputs that reach deep. Run from the repository root:
//     .build-fuzz/debug/make-seeds Fuzz/corpus
import Foundation
import FuzzSupport
import Models
import Runs
import Tasks
import Tokenizers
import Tuning
import WeightFiles

/// Never called. The sanitizer build links libFuzzer's own main object into every executable, and it names this.
@_cdecl("LLVMFuzzerTestOneInput")
func unused(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt { 0 }

let corpus = URL(fileURLWithPath: CommandLine.arguments.count > 1 ? CommandLine.arguments[1] : "Fuzz/corpus")

/// Writes one seed made of `parts` joined by the separator the targets cut at.
func seed(_ target: String, _ name: String, _ parts: [[UInt8]]) {
    let folder = corpus.appendingPathComponent(target)
    try! FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var bytes = parts[0]
    for part in parts.dropFirst() { bytes += partSeparator + part }
    try! Data(bytes).write(to: folder.appendingPathComponent(name))
    print("\(target)/\(name): \(bytes.count) bytes")
}

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

func json(_ object: Any) -> [UInt8] {
    Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

/// Stops the generator when a seed does not read: a seed the reader refuses would only test the first check.
func mustRead(_ what: String, _ body: () throws -> Void) {
    do { try body() } catch { fatalError("seed \(what) does not read: \(error)") }
}

func scratchFile(_ bytes: [UInt8], _ name: String) -> URL { Scratch.write(bytes, to: name) }

func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

/// IEEE half precision of the seeds' small normal values (and zero): exponent rebiased, mantissa truncated.
/// By hand: Swift's Float16 needs compiler-rt helpers that this link does not have.
func half(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
    let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
    guard value != 0, exponent > 0 else { return sign }
    precondition(exponent < 31, "\(value) is too large for the seeds' half precision")
    return sign | UInt16(exponent) << 10 | UInt16(truncatingIfNeeded: (bits >> 13) & 0x3FF)
}

// MARK: GGUF

/// A GGUF version 3 file: metadata, then tensors of raw ggml data at multiples of `alignment` (which the metadata
/// must state when it is not 32), as gguf-py's GGUFWriter lays it out.
func gguf(metadata: [(String, GGUFValue)], tensors: [(name: String, dimensions: [Int], type: GGMLType, data: [UInt8])],
          alignment: Int = 32) -> [UInt8] {
    var out = utf8("GGUF") + littleEndian(UInt32(3)) + littleEndian(UInt64(tensors.count)) + littleEndian(UInt64(metadata.count))
    func string(_ s: String) -> [UInt8] { littleEndian(UInt64(s.utf8.count)) + utf8(s) }
    func payload(_ value: GGUFValue) -> [UInt8] {
        switch value {
        case .uint32(let v): return littleEndian(v)
        case .int32(let v): return littleEndian(v)
        case .float32(let v): return littleEndian(v.bitPattern)
        case .bool(let v): return [v ? 1 : 0]
        case .string(let v): return string(v)
        case .array(let type, let values):
            return littleEndian(type.rawValue) + littleEndian(UInt64(values.count)) + values.flatMap(payload)
        default: fatalError("the seeds use no \(value.type)")
        }
    }
    for (key, value) in metadata { out += string(key) + littleEndian(value.type.rawValue) + payload(value) }
    var offset = 0
    for tensor in tensors {
        out += string(tensor.name) + littleEndian(UInt32(tensor.dimensions.count))
        for d in tensor.dimensions { out += littleEndian(UInt64(d)) }
        out += littleEndian(tensor.type.rawValue) + littleEndian(UInt64(offset))
        offset += (tensor.data.count + alignment - 1) / alignment * alignment
    }
    func pad() { while out.count % alignment != 0 { out.append(0) } }
    pad()
    for tensor in tensors { out += tensor.data; pad() }
    return out
}

/// A tiny Gemma 3 (1 layer, C 8, 2 query heads and 1 key-value head of 4, F 16) with its 6-token vocabulary.
let gemma = DecoderConfig.gemma3(layers: 1, width: 8, heads: 2, kvHeads: 1, headSize: 4, feedForwardWidth: 16, vocabularySize: 6,
                         context: 64, slidingWindow: 4)
let gemmaMetadata: [(String, GGUFValue)] = [
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
    ("gemma3.rope.freq_base", .float32(1_000_000)),
    ("tokenizer.ggml.model", .string("llama")),
    ("tokenizer.ggml.tokens", .array(.string, ["<pad>", "<eos>", "<bos>", "<unk>", "▁a", "b"].map { .string($0) })),
    ("tokenizer.ggml.scores", .array(.float32, [0, 0, 0, 0, -1, -2].map { .float32($0) })),
    ("tokenizer.ggml.token_type", .array(.int32, [3, 3, 3, 2, 1, 1].map { .int32($0) })),
    ("tokenizer.ggml.padding_token_id", .uint32(0)),
    ("tokenizer.ggml.eos_token_id", .uint32(1)),
    ("tokenizer.ggml.bos_token_id", .uint32(2)),
    ("tokenizer.ggml.unknown_token_id", .uint32(3)),
    ("tokenizer.ggml.add_bos_token", .bool(true)),
    ("tokenizer.ggml.add_space_prefix", .bool(false)),
]

/// A tiny Qwen2 (QKV biases, an untied head) and a tiny Llama (tied, linear RoPE scaling, q/k permuted on load).
let qwen2 = DecoderConfig.llama(.qwen2, layers: 1, width: 8, heads: 2, kvHeads: 1, headSize: 4, feedForwardWidth: 16,
                                vocabularySize: 6, context: 64, attentionBias: true, tiedHead: false)
let llama = DecoderConfig.llama(layers: 1, width: 8, heads: 2, kvHeads: 1, headSize: 4, feedForwardWidth: 16,
                                vocabularySize: 6, context: 64)
func llamaMetadata(_ architecture: String, extra: [(String, GGUFValue)] = []) -> [(String, GGUFValue)] {
    [("general.architecture", .string(architecture))]
        + [("context_length", 64), ("embedding_length", 8), ("block_count", 1), ("feed_forward_length", 16),
           ("attention.head_count", 2), ("attention.head_count_kv", 1)].map { ("\(architecture).\($0.0)", GGUFValue.uint32(UInt32($0.1))) }
        + [("\(architecture).attention.layer_norm_rms_epsilon", .float32(1e-6)), ("\(architecture).rope.freq_base", .float32(10_000)),
           ("tokenizer.ggml.model", .string("gpt2")),
           ("tokenizer.ggml.tokens", .array(.string, ["a", "b", "c", "Ġa", "<|endoftext|>", "ab"].map { .string($0) })),
           ("tokenizer.ggml.token_type", .array(.int32, [1, 1, 1, 1, 3, 1].map { .int32($0) })),
           ("tokenizer.ggml.merges", .array(.string, [.string("a b")])),
           ("tokenizer.ggml.eos_token_id", .uint32(4))]
        + extra
}

/// Every tensor of a tiny model with small distinct values, each stored as `type(name)`.
func gemmaTensors(_ type: (String) -> GGMLType) -> [(name: String, dimensions: [Int], type: GGMLType, data: [UInt8])] {
    tensors(of: gemma, type)
}

func tensors(of config: DecoderConfig, _ type: (String) -> GGMLType) -> [(name: String, dimensions: [Int], type: GGMLType, data: [UInt8])] {
    config.parameterLayout.entries.enumerated().map { i, entry in
        let values = (0..<entry.count).map { Float(($0 * 7 + i) % 11 - 5) / 50 }
        let t = type(entry.name)
        let data: [UInt8]
        switch t {
        case .f32: data = values.flatMap { littleEndian($0.bitPattern) }
        case .f16: data = values.flatMap { littleEndian(half($0)) }
        case .bf16: data = values.flatMap { littleEndian(UInt16($0.bitPattern >> 16)) }
        default: fatalError("the seeds store no \(t.name)")
        }
        return (entry.name, entry.shape.reversed(), t, data)  // ggml lists dimensions fastest-varying first
    }
}

func ggufSeed(_ name: String, _ bytes: [UInt8]) {
    mustRead(name) { _ = try DecoderModel.load(gguf: scratchFile(bytes, "seed.gguf")) }
    seed("gguf", name, [bytes])
}
ggufSeed("gemma3-f32.gguf", gguf(metadata: gemmaMetadata, tensors: gemmaTensors { _ in .f32 }))
ggufSeed("gemma3-f16-bf16.gguf", gguf(metadata: gemmaMetadata + [("general.alignment", .uint32(64))],
                                      tensors: gemmaTensors { $0.contains("norm") ? .bf16 : .f16 }, alignment: 64))
ggufSeed("qwen2-f32.gguf", gguf(metadata: llamaMetadata("qwen2"), tensors: tensors(of: qwen2) { _ in .f32 }))
ggufSeed("llama-linear-rope-f16.gguf", gguf(metadata: llamaMetadata("llama", extra: [("llama.rope.scaling.type", .string("linear")),
                                                                                   ("llama.rope.scaling.factor", .float32(2))]),
                                            tensors: tensors(of: llama) { _ in .f16 }))
// A byte-level BPE vocabulary (Qwen2's kind): 256 byte tokens, merges, control and user-defined tokens.
do {
    func byteCharacter(_ byte: Int) -> String {
        let printable = { (b: Int) in (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b) }
        if printable(byte) { return String(Character(Unicode.Scalar(UInt8(byte)))) }
        return String(Character(Unicode.Scalar(UInt32(256 + (0..<byte).filter { !printable($0) }.count))!))
    }
    let tokens = (0..<256).map(byteCharacter) + ["he", "ll", "hell", "hello", "12", "<|endoftext|>", "<|im_start|>", "<tool_call>"]
    let bytes = gguf(metadata: [
        ("general.architecture", .string("qwen2")),
        ("tokenizer.ggml.model", .string("gpt2")),
        ("tokenizer.ggml.pre", .string("qwen2")),
        ("tokenizer.ggml.tokens", .array(.string, tokens.map { .string($0) })),
        ("tokenizer.ggml.token_type", .array(.int32, ([Int32](repeating: 1, count: 261) + [3, 3, 4]).map { .int32($0) })),
        ("tokenizer.ggml.merges", .array(.string, ["h e", "l l", "he ll", "hell o", "1 2"].map { .string($0) })),
        ("tokenizer.ggml.bos_token_id", .uint32(261)),
        ("tokenizer.ggml.eos_token_id", .uint32(261)),
        ("tokenizer.ggml.add_bos_token", .bool(false)),
    ], tensors: [])
    mustRead("byte-level-bpe.gguf") { _ = try GGUFTokenizer.load(scratchFile(bytes, "seed.gguf")) }
    seed("gguf", "byte-level-bpe.gguf", [bytes])
}

// gguf-py's files with every metadata value type and quantized tensors (the reader tests' fixtures).
for name in ["tiny.gguf", "tiny-align64.gguf"] {
    let bytes = Array(try! Data(contentsOf: URL(fileURLWithPath: "Tests/WeightFilesTests/Fixtures/\(name)")))
    mustRead(name) { _ = try GGUFFile(path: scratchFile(bytes, "seed.gguf").path) }
    seed("gguf", name, [bytes])
}

// MARK: safetensors and config.json

/// A safetensors file of the given tensors, each stored as F32, F16 or BF16.
func safetensors(_ tensors: [(name: String, shape: [Int], dtype: String)], metadata: [String: String] = [:]) -> [UInt8] {
    var header: [String: Any] = metadata.isEmpty ? [:] : ["__metadata__": metadata]
    var data: [UInt8] = []
    for (i, tensor) in tensors.enumerated() {
        let values = (0..<tensor.shape.reduce(1, *)).map { Float(($0 * 5 + i) % 9 - 4) / 40 }
        let start = data.count
        for v in values {
            switch tensor.dtype {
            case "F32": data += littleEndian(v.bitPattern)
            case "F16": data += littleEndian(half(v))
            case "BF16": data += littleEndian(UInt16(v.bitPattern >> 16))
            default: fatalError("the seeds store no \(tensor.dtype)")
            }
        }
        header[tensor.name] = ["dtype": tensor.dtype, "shape": tensor.shape, "data_offsets": [start, data.count]]
    }
    let headerBytes = json(header)
    return littleEndian(UInt64(headerBytes.count)) + headerBytes + data
}

/// GPT-2 with 1 layer, width 4, 2 heads, 4 positions and 8 tokens.
let gpt2 = GPT2Config(layers: 1, heads: 2, width: 4, positions: 4, vocabularySize: 8)
let gpt2Config = json(["n_layer": 1, "n_head": 2, "n_embd": 4, "n_positions": 4, "vocab_size": 8])
let gpt2ConfigInFull = json(["n_layer": 1, "n_head": 2, "n_embd": 4, "n_positions": 4, "vocab_size": 8, "n_inner": NSNull(),
                             "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new", "scale_attn_weights": true,
                             "scale_attn_by_inverse_layer_idx": false, "model_type": "gpt2"])

func safetensorsSeed(_ name: String, _ parts: [[UInt8]]) {
    Scratch.write(parts[0], to: "gpt2/config.json")
    Scratch.write(parts[1], to: "gpt2/model.safetensors")
    mustRead(name) { _ = try ModelLoader.load(Scratch.folder.appendingPathComponent("gpt2")) }
    seed("safetensors", name, parts)
}
let gpt2Entries = gpt2.parameterLayout.entries
safetensorsSeed("gpt2-f32", [gpt2Config, safetensors(gpt2Entries.map { ($0.name, $0.shape, "F32") })])
// A Hugging Face Qwen2 folder (1 layer, width 8, 2 query heads and 1 key-value head of 4, F 16, 6 tokens, untied head).
let qwen2Config = json(["model_type": "qwen2", "hidden_size": 8, "intermediate_size": 16, "num_hidden_layers": 1,
                        "num_attention_heads": 2, "num_key_value_heads": 1, "vocab_size": 6, "max_position_embeddings": 64,
                        "rms_norm_eps": 1e-6, "rope_parameters": ["rope_type": "default", "rope_theta": 1e6],
                        "tie_word_embeddings": false, "hidden_act": "silu", "use_sliding_window": false])
let qwen2Tensors: [(String, [Int], String)] = [("model.embed_tokens.weight", [6, 8], "F32"), ("model.norm.weight", [8], "F32"),
                                               ("lm_head.weight", [6, 8], "BF16")]
    + [("input_layernorm.weight", [8]), ("self_attn.q_proj.weight", [8, 8]), ("self_attn.q_proj.bias", [8]),
       ("self_attn.k_proj.weight", [4, 8]), ("self_attn.k_proj.bias", [4]), ("self_attn.v_proj.weight", [4, 8]),
       ("self_attn.v_proj.bias", [4]), ("self_attn.o_proj.weight", [8, 8]), ("post_attention_layernorm.weight", [8]),
       ("mlp.gate_proj.weight", [16, 8]), ("mlp.up_proj.weight", [16, 8]), ("mlp.down_proj.weight", [8, 16])]
      .map { ("model.layers.0." + $0.0, $0.1, "F16") }
safetensorsSeed("qwen2-hugging-face", [qwen2Config, safetensors(qwen2Tensors)])
// As transformers saves it: the `transformer.` prefix, causal-mask buffers, half precision, metadata.
safetensorsSeed("gpt2-transformers-f16", [
    gpt2ConfigInFull,
    safetensors(gpt2Entries.map { ("transformer." + $0.name, $0.shape, $0.name.contains("ln") ? "BF16" : "F16") }
                + [("transformer.h.0.attn.bias", [1, 1, 4, 4], "F32")], metadata: ["format": "pt"]),
])

// MARK: tokenizer files

/// GPT-2's byte alphabet (encoder.py's bytes_to_unicode): printable Latin-1 bytes stand for themselves.
let byteSpellings: [String] = {
    var next: UInt32 = 256
    return (0..<256).map { byte in
        let printable = (33...126).contains(byte) || (161...172).contains(byte) || (174...255).contains(byte)
        defer { if !printable { next += 1 } }
        return String(Unicode.Scalar(printable ? UInt32(byte) : next)!)
    }
}()
/// The 256 bytes, then merges that spell a few words, then <|endoftext|>.
let merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n"), ("Ġ", "w"), ("a", "s"), ("Ġw", "as"), ("e", "r")]
let vocabulary: [String: Int] = {
    var vocabulary = Dictionary(uniqueKeysWithValues: byteSpellings.enumerated().map { ($1, $0) })
    for (left, right) in merges where vocabulary[left + right] == nil { vocabulary[left + right] = vocabulary.count }
    vocabulary["<|endoftext|>"] = vocabulary.count
    return vocabulary
}()
let endOfText = vocabulary["<|endoftext|>"]!

func tokenizerSeed(_ name: String, _ parts: [[UInt8]]) {
    mustRead(name) {
        if parts.count == 1 {
            _ = try GPT2Tokenizer(tokenizerJSON: scratchFile(parts[0], "tokenizer.json"))
        } else {
            _ = try GPT2Tokenizer(vocabularyFile: scratchFile(parts[0], "vocab.json"), mergesFile: scratchFile(parts[1], "merges.txt"))
        }
    }
    seed("tokenizer", name, parts)
}
tokenizerSeed("tokenizer.json", [json([
    "version": "1.0",
    "added_tokens": [["id": endOfText, "content": "<|endoftext|>", "special": true]],
    "pre_tokenizer": ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true],
    "model": ["type": "BPE", "vocab": vocabulary, "merges": merges.map { "\($0.0) \($0.1)" }],
])])
// Newer tokenizers write merges as pairs, and may wrap the pre-tokenizer in a Sequence.
tokenizerSeed("tokenizer-sequence.json", [json([
    "pre_tokenizer": ["type": "Sequence", "pretokenizers": [["type": "ByteLevel", "add_prefix_space": false]]],
    "model": ["type": "BPE", "vocab": vocabulary, "merges": merges.map { [$0.0, $0.1] }],
])])
let mergesText = utf8("#version: 0.2\n" + merges.map { "\($0.0) \($0.1)\n" }.joined())
tokenizerSeed("vocab-merges", [json(vocabulary), mergesText])
tokenizerSeed("vocab-merges-text", [json(vocabulary), mergesText, utf8("the  winter was\r\nthere <|endoftext|> 42 ok?")])

// MARK: data files and task.json

func dataSeed(_ name: String, _ rows: String, task: [String: Any]? = nil) {
    let format = DataFileFormat(rawValue: String(name.split(separator: ".").last!))!
    mustRead(name) {
        var columns = DataColumns()
        if let task {
            columns = try TaskDescription.read(taskFolder: scratchFile(json(task), "task/task.json").deletingLastPathComponent())!.columns
        }
        _ = try DataFile.read(scratchFile(utf8(rows), "rows.\(format.rawValue)"), columns: columns)
    }
    seed("data", name, [utf8(rows)] + (task.map { [json($0)] } ?? []))
}
dataSeed("named-labels.tsv", "sentence\tlabel\na fine film\tpositive\ndull\tnegative\n\nit was ok\tpositive\n")
dataSeed("integer-labels.tsv", "sentence\tlabel\r\ngreat\t1\r\nbad\t0\r\n",
         task: ["labels": ["negative", "positive"], "label_words": [" bad", " good"], "template": "{sentence} All in all {prompt}"])
dataSeed("quoted.csv", "text,label\n\"a fine, moving film\",positive\n\"he said \"\"dull\"\"\",negative\n\"two\nlines\",1\n",
         task: ["description": "sentiment", "labels": ["negative", "positive"], "template": "pez", "manual_prompt": "Is it good?"])
dataSeed("columns.csv", "id,review,stars\n1,great,5\n2,awful,1\n",
         task: ["text_column": "review", "label_column": "stars", "labels": ["1", "5"], "label_words": [" terrible", " great"],
                "template": "rlprompt"])
dataSeed("rows.jsonl", "{\"text\": \"café crème\", \"label\": \"positive\"}\n\n{\"sentence\": \"meh\", \"label\": \"negative\", \"extra\": null}\n")
dataSeed("number-labels.jsonl", "{\"text\": \"good\", \"label\": 1}\r\n{\"text\": \"bad\", \"label\": 0.0}\n",
         task: ["label_words": [" no", " yes"]])

// MARK: prompt files

var softConfiguration = TuningConfiguration(method: .soft)
softConfiguration.promptLength = 2
func promptSeed(_ name: String, method: String, configuration: TuningConfiguration?, task: TaskDescription?) {
    let metadata = PromptMetadata(model: "gemma-3-270m", modelSHA256: String(repeating: "ab", count: 32), method: method, task: "sst-2",
                                  split: "16-100", template: TaskTemplate.pez, verbalizers: [" bad", " good"], ids: [4, 5],
                                  text: "ab", configuration: configuration, data: "data/fewshot", taskDescription: task)
    let file = PromptFile(prompt: PromptEmbeddings(length: 2, width: 4, values: (0..<8).map { Float($0) / 8 }), metadata: metadata)
    let url = Scratch.folder.appendingPathComponent("seed.safetensors")
    mustRead(name) {
        try file.write(to: url)
        _ = try PromptFile.read(from: url)
    }
    seed("prompt", name, [Array(try! Data(contentsOf: url))])
}
promptSeed("soft.safetensors", method: "soft", configuration: softConfiguration,
           task: TaskDescription(labels: ["negative", "positive"], labelWords: [" bad", " good"], manualPrompt: "Is it good?"))
promptSeed("gcg.safetensors", method: "gcg", configuration: nil, task: nil)

// MARK: state.json and the logs a resume cuts

/// Floats as PackedFloats writes them: base64 of their little-endian bytes.
func packed(_ values: [Float]) -> String { Data(values.flatMap { littleEndian($0.bitPattern) }).base64EncodedString() }

let prompt: [Float] = (0..<8).map { Float($0) / 10 - 0.3 }
func optimizer(_ moments: Int) -> [String: Any] {
    ["learningRate": 0.1, "beta1": 0.9, "beta2": 0.999, "epsilon": 1e-8, "weightDecay": 0.01, "step": moments > 0 ? 3 : 0,
     "m": packed((0..<moments).map { Float($0) / 100 }), "v": packed((0..<moments).map { Float($0) / 1000 })]
}
let logLines = [1, 2, 3, 4].map { step in
    String(decoding: json(["step": step, "loss": 1.5, "taskLoss": 1.5, "scrutabilityLoss": 0, "faithfulnessLoss": 0, "klLoss": 0,
                           "gradientNorm": 0.5, "batchAccuracy": 0.5, "ids": [4, 5], "text": "ab", "seconds": 0.25]), as: UTF8.self)
}.joined(separator: "\n") + "\n"
let editLine = String(decoding: json(["step": 2, "position": 1, "edit_size": 1, "old": ["id": 4, "text": "a"], "new": ["id": 5, "text": "b"],
                                      "before": ["task": 1, "logPerplexity": 2, "repetition": 0, "total": 1],
                                      "after": ["task": 0.5, "logPerplexity": 2, "repetition": 0, "total": 0.5]]), as: UTF8.self) + "\n"

func stateSeed(_ name: String, _ state: [String: Any], method: TuningMethod, logs: [String] = []) {
    var configuration = TuningConfiguration(method: method)
    configuration.promptLength = 2
    configuration.policy.hiddenWidth = 3
    mustRead(name) {
        try JSONDecoder().decode(TuningState.self, from: Data(json(state))).validate(configuration: configuration, width: 4, vocabularySize: 257)
    }
    seed("state", name, [json(state)] + logs.map(utf8))
}
stateSeed("soft.json", ["step": 3, "prompt": prompt, "optimizer": optimizer(8), "seconds": 1.5,
                        "best": ["step": 2, "devAccuracy": 0.75, "ids": [4, 5], "values": prompt, "devLoss": 0.5]],
          method: .soft, logs: [logLines])
stateSeed("pez-first-step.json", ["step": 0, "prompt": prompt, "optimizer": optimizer(0), "seconds": 0], method: .pez)
stateSeed("rlprompt.json", ["step": 3, "prompt": prompt, "optimizer": optimizer(2 * 4 * 3 + 3 + 4), "seconds": 2,
                            "policy": ["online": packed((0..<31).map { Float($0) / 31 }), "target": packed([Float](repeating: 0.5, count: 31))],
                            "best": ["step": 3, "devAccuracy": 0.5, "ids": [1, 2], "values": prompt]],
          method: .rlprompt, logs: [logLines])
stateSeed("gcg.json", ["step": 4, "prompt": prompt, "optimizer": optimizer(0), "seconds": 3, "ids": [4, 5],
                       "trajectory": [["ids": [4, 5], "objective": 1.25], ["ids": [6, 7], "objective": 2]]],
          method: .gcg, logs: [logLines, editLine])
