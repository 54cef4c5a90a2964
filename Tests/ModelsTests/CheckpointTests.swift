// Loading Hugging Face GPT-2 checkpoints: names with and without the prefix, dtypes, and the errors a user
// sees for a wrong file; and the checksum verifier on genuine OpenAI bytes and altered copies.
import Foundation
import Testing
import Models
import WeightFiles

let manifestURL = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("models/gpt2/openai-checkpoint-manifest.json")

/// A copy of the tiny checkpoint with its tensors passed through `edit` (return nil to drop one).
func alteredCheckpoint(_ edit: (SafetensorsWriter.Tensor) -> SafetensorsWriter.Tensor?) throws -> URL {
    let source = fixtures.appendingPathComponent("gpt2-tiny")
    let file = try SafetensorsFile(path: source.appendingPathComponent("model.safetensors").path)
    let tensors = try file.entries.keys.sorted().compactMap { name in
        edit(SafetensorsWriter.Tensor(name: name, shape: file.entries[name]!.shape, values: try file.floats(name)))
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("legible-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: directory.appendingPathComponent("config.json"))
    try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
    return directory
}

@Suite struct CheckpointLoadingTests {
    @Test func namesWithoutThePrefixLoadTheSameWeights() throws {
        let prefixed = try GPT2.load(directory: fixtures.appendingPathComponent("gpt2-tiny"))
        let bare = try GPT2.load(directory: alteredCheckpoint {
            var t = $0
            t.name = t.name.replacingOccurrences(of: "transformer.", with: "")
            return t
        })
        #expect(prefixed.parameters.array == bare.parameters.array)
    }

    @Test func maskBuffersAndTiedHeadAreIgnored() throws {
        let directory = try alteredCheckpoint { $0 }
        let file = try SafetensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        var tensors = try file.entries.keys.sorted().map { SafetensorsWriter.Tensor(name: $0, shape: file.entries[$0]!.shape, values: try file.floats($0)) }
        tensors.append(.init(name: "transformer.h.0.attn.bias", shape: [1, 1, 2, 2], values: [1, 0, 1, 1]))
        tensors.append(.init(name: "lm_head.weight", shape: [301, 60], values: try file.floats("transformer.wte.weight")))
        try SafetensorsWriter.write(tensors, to: directory.appendingPathComponent("model.safetensors"))
        #expect(try GPT2.load(directory: directory).parameterCount > 0)
    }

    @Test func wrongShapeNamesTheTensorWithExpectedAndFound() throws {
        let directory = try alteredCheckpoint {
            $0.name == "transformer.h.1.mlp.c_fc.weight" ? .init(name: $0.name, shape: [240, 60], values: $0.values) : $0
        }
        #expect(throws: ModelLoadError.wrongShape(name: "transformer.h.1.mlp.c_fc.weight", expected: [60, 240], found: [240, 60])) {
            try GPT2.load(directory: directory)
        }
    }

    @Test func missingAndStrayTensorsAreNamed() throws {
        let missing = try alteredCheckpoint { $0.name == "transformer.ln_f.bias" ? nil : $0 }
        #expect(throws: ModelLoadError.missingTensor(name: "ln_f.bias")) { try GPT2.load(directory: missing) }
        let stray = try alteredCheckpoint {
            $0.name == "transformer.ln_f.bias" ? .init(name: "score.weight", shape: $0.shape, values: $0.values) : $0
        }
        #expect(throws: ModelLoadError.unexpectedTensor(name: "score.weight")) { try GPT2.load(directory: stray) }
    }

    @Test func configWithoutARequiredKeyIsRefused() throws {
        let directory = try alteredCheckpoint { $0 }
        let configURL = directory.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config.removeValue(forKey: "n_head")
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        #expect(throws: ModelLoadError.invalidConfig("config.json: missing required key 'n_head'")) { try GPT2.load(directory: directory) }
    }

    @Test func missingWeightsFileSaysHowToGetIt() throws {
        let directory = try alteredCheckpoint { $0 }
        try FileManager.default.removeItem(at: directory.appendingPathComponent("model.safetensors"))
        do {
            _ = try GPT2.load(directory: directory)
            Issue.record("loading without model.safetensors succeeded")
        } catch let error as ModelLoadError {
            #expect(error.description.contains("scripts/fetch-model gpt2"))
        }
    }

    @Test func halfPrecisionCheckpointsLoadAsFloat() throws {
        // Values rounded to bfloat16 survive the trip exactly once widened again.
        let rounded = { (x: Float) in Float(bitPattern: x.bitPattern & 0xFFFF_0000) }
        let file = try SafetensorsFile(path: fixtures.appendingPathComponent("gpt2-tiny/model.safetensors").path)
        let original = try file.floats("transformer.ln_f.weight")
        var bytes = Data()
        for v in original { withUnsafeBytes(of: UInt16(rounded(v).bitPattern >> 16).littleEndian) { bytes.append(contentsOf: $0) } }
        let header = try JSONSerialization.data(withJSONObject: ["x": ["dtype": "BF16", "shape": [original.count], "data_offsets": [0, bytes.count]]])
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header); data.append(bytes)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-bf16-\(UUID().uuidString).safetensors")
        try data.write(to: url)
        #expect(try SafetensorsFile(path: url.path).floats("x") == original.map(rounded))
        #expect(Float(halfBits: 0x3C00) == 1 && Float(halfBits: 0xC000) == -2 && Float(halfBits: 0x0001) == 0x1p-24)
    }

    @Test func truncatedFileIsRejected() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-bad-\(UUID().uuidString).safetensors")
        try Data([0xFF, 0, 0, 0, 0, 0, 0, 0, 0x7B]).write(to: url)
        #expect(throws: SafetensorsError.self) { try SafetensorsFile(path: url.path) }
    }
}

@Suite struct CheckpointVerifierTests {
    @Test func genuineBytesMatchTheManifest() throws {
        let manifest = try CheckpointManifest.load(from: manifestURL)
        let file = try SafetensorsFile(path: fixtures.appendingPathComponent("gpt2-genuine-subset.safetensors").path)
        let verdicts = try CheckpointVerifier.verify(file, against: manifest)
        #expect(verdicts.count == 148)
        #expect(verdicts.filter { $0.status == .match }.count == 10)
        #expect(verdicts.filter { $0.status == .missing }.count == 138)
        #expect(verdicts.first { $0.name == "transformer.h.0.attn.c_attn.bias" }?.status == .match)
    }

    @Test func theSharedSubsetMatchesToo() throws {
        let shared = manifestURL.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/models/gpt2/genuine-subset.safetensors")
        try #require(FileManager.default.fileExists(atPath: shared.path), "the shared folder sits beside the repository")
        let verdicts = try CheckpointVerifier.verify(SafetensorsFile(path: shared.path), against: CheckpointManifest.load(from: manifestURL))
        #expect(verdicts.filter { $0.status == .match }.count == 11)
    }

    @Test func alteredBytesAndShapesAreCaught() throws {
        let file = try SafetensorsFile(path: fixtures.appendingPathComponent("gpt2-genuine-subset.safetensors").path)
        var tensors = try file.entries.keys.sorted().map { SafetensorsWriter.Tensor(name: $0, shape: file.entries[$0]!.shape, values: try file.floats($0)) }
        // Flip one low mantissa bit of one value, and give another tensor a different shape.
        let i = tensors.firstIndex { $0.name == "transformer.ln_f.bias" }!
        tensors[i].values[100] = Float(bitPattern: tensors[i].values[100].bitPattern ^ 1)
        let j = tensors.firstIndex { $0.name == "transformer.h.0.ln_1.weight" }!
        tensors[j] = .init(name: tensors[j].name, shape: [2, 384], values: tensors[j].values)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("legible-altered-\(UUID().uuidString).safetensors")
        try SafetensorsWriter.write(tensors, to: url)
        let verdicts = try CheckpointVerifier.verify(SafetensorsFile(path: url.path), against: CheckpointManifest.load(from: manifestURL))
        guard case .differ = verdicts.first(where: { $0.name == "transformer.ln_f.bias" })?.status else {
            Issue.record("a flipped bit went unnoticed"); return
        }
        #expect(verdicts.first { $0.name == "transformer.h.0.ln_1.weight" }?.status == .wrongShape(expected: [768], found: [2, 384]))
        #expect(verdicts.filter { $0.status == .match }.count == 8)
    }

    @Test func crc32cKnownAnswers() {
        // RFC 3720's test vector: 32 zero bytes → 0x8A9136AA; "123456789" → 0xE3069283.
        #expect([UInt8](repeating: 0, count: 32).withUnsafeBytes { CRC32C.checksum($0) } == 0x8A91_36AA)
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC32C.checksum($0) } == 0xE306_9283)
    }
}
