// Model configurations from config.json and GGUF metadata are checked before anything is sized from them:
// each corrupt value is refused with an error naming its key, through every loader path, and no test
// allocates more than a few kilobytes (the refused sizes would be terabytes or crash).
import Foundation
import Testing
import Models
import TestSupport

/// `body` must throw ModelLoadError.invalidValue for `key` with `value`, and say so in its message.
func expectInvalid(_ key: String, _ value: String, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) {
    let error = #expect(throws: ModelLoadError.self, sourceLocation: sourceLocation) { try body() }
    guard case .invalidValue(key, value, _)? = error else {
        Issue.record("expected \(key) = \(value) to be refused, got \(String(describing: error))", sourceLocation: sourceLocation)
        return
    }
    let message = error!.description
    #expect(message.contains(key) && message.contains(value) && message.contains("expected"), sourceLocation: sourceLocation)
}

@Suite struct GPT2ConfigValidationTests {
    /// gpt2-tiny's config.json with `changes` applied, alone in a fresh directory (no weights: the
    /// config must be refused before they are looked for).
    func directory(_ changes: [String: Any]) throws -> URL {
        let source = fixtures.appendingPathComponent("gpt2-tiny/config.json")
        var json = try JSONSerialization.jsonObject(with: Data(contentsOf: source)) as! [String: Any]
        json.merge(changes) { $1 }
        let directory = try temporaryDirectory()
        try JSONSerialization.data(withJSONObject: json).write(to: directory.appendingPathComponent("config.json"))
        return directory
    }

    @Test("each out-of-range config.json value is refused, naming its key", arguments: [
        ("n_layer", -1), ("n_layer", 0), ("n_layer", 1 << 40), ("n_embd", 1 << 62), ("n_head", 0),
        ("n_positions", 1 << 62), ("n_positions", -5), ("vocab_size", 0), ("vocab_size", 1_000_000_000),
    ] as [(String, Int)])
    func outOfRange(key: String, value: Int) throws {
        let directory = try directory([key: value])
        defer { try? FileManager.default.removeItem(at: directory) }
        expectInvalid(key, "\(value)") { _ = try ModelLoader.load(directory) }
        expectInvalid(key, "\(value)") { _ = try GPT2Config.load(from: directory.appendingPathComponent("config.json")) }
    }

    @Test func headsMustDivideTheWidth() throws {
        let directory = try directory(["n_embd": 768, "n_head": 5])
        defer { try? FileManager.default.removeItem(at: directory) }
        expectInvalid("n_embd", "768") { _ = try ModelLoader.load(directory) }
    }

    @Test("a number that is not an Int names its key", arguments: [("n_positions", 1e30), ("n_layer", 2.5)])
    func notAnInteger(key: String, value: Double) throws {
        let directory = try directory([key: value])
        defer { try? FileManager.default.removeItem(at: directory) }
        expectInvalid(key, "\(NSNumber(value: value))") { _ = try ModelLoader.load(directory) }
    }

    @Test func unsupportedOptionsNameTheirKey() throws {
        var config = GPT2Config(layers: 2, heads: 2, width: 8, positions: 16, vocabularySize: 10)
        config.inner = 1 << 62
        expectInvalid("n_inner", "\(1 << 62)") { try config.validate() }
        config = GPT2Config(layers: 2, heads: 2, width: 8, positions: 16, vocabularySize: 10, layerNormEpsilon: .nan)
        expectInvalid("layer_norm_epsilon", "nan") { try config.validate() }
    }

    @Test func parametersBeyondMemoryAreRefusedBeforeAllocating() throws {
        // Every value within its bound, but 1,024 layers of width 65,536 are ~200 TB of float32.
        let config = GPT2Config(layers: 1_024, heads: 64, width: 65_536, positions: 1_024, vocabularySize: 50_257)
        #expect { try DecoderModel(randomWeightsFor: config, seed: 1) } throws: { error in
            guard case .tooLarge(let model, let bytes, let limit)? = error as? ModelLoadError else { return false }
            return bytes > limit && model.contains("n_layer 1024") && "\(error)".contains("GiB")
        }
    }

    @Test func theRandomInitializerChecksToo() {
        let config = GPT2Config(layers: -2, heads: 2, width: 8, positions: 16, vocabularySize: 10)
        expectInvalid("n_layer", "-2") { _ = try DecoderModel(randomWeightsFor: config, seed: 1) }
    }
}

@Suite struct Gemma3ConfigValidationTests {
    /// The tiny Gemma 3 metadata with `key` set to `value`, written without tensors (the config must be refused
    /// before they are read); returns the error of loading it through ModelLoader.
    func load(_ file: TinyGGUF) throws -> Error? {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try file.write(in: directory)
        do {
            _ = try ModelLoader.load(url)
            return nil
        } catch {
            return error
        }
    }

    func with(_ key: String, _ value: TinyGGUF.Value) -> TinyGGUF {
        var file = TinyGGUF.gemma3(tensors: false)
        file[key] = value
        return file
    }

    @Test("each out-of-range GGUF value is refused, naming its key", arguments: [
        ("gemma3.attention.sliding_window", -1), ("gemma3.attention.sliding_window", 0),
        ("gemma3.attention.head_count_kv", 0), ("gemma3.block_count", -3), ("gemma3.block_count", 1 << 40),
        ("gemma3.embedding_length", 1 << 62), ("gemma3.feed_forward_length", (1 << 62) + 1),
        ("gemma3.attention.head_count", -1), ("gemma3.context_length", 0), ("gemma3.context_length", 1 << 62),
    ] as [(String, Int64)])
    func outOfRange(key: String, value: Int64) throws {
        let error = try load(with(key, .int64(value)))
        expectInvalid(key, "\(value)") { if let error { throw error } }
    }

    @Test func kvHeadsMustDivideHeads() throws {
        var file = TinyGGUF.gemma3(tensors: false)
        file["gemma3.attention.head_count"] = .uint32(4)
        file["gemma3.attention.head_count_kv"] = .uint32(3)
        let error = try load(file)
        expectInvalid("gemma3.attention.head_count_kv", "3") { if let error { throw error } }
    }

    @Test func headSizeMustBeEvenAndShared() throws {
        var odd = TinyGGUF.gemma3(tensors: false)
        odd["gemma3.attention.key_length"] = .uint32(5)
        odd["gemma3.attention.value_length"] = .uint32(5)
        let oddError = try load(odd)
        expectInvalid("gemma3.attention.key_length", "5") { if let oddError { throw oddError } }
        let differing = try load(with("gemma3.attention.value_length", .uint32(8)))
        expectInvalid("gemma3.attention.value_length", "8") { if let differing { throw differing } }
    }

    @Test func aValueBeyondIntNamesTheKey() throws {
        let error = try load(with("gemma3.block_count", .uint64(.max)))
        guard case .invalidConfig(let problem)? = error as? ModelLoadError else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(problem.contains("gemma3.block_count"))
    }

    @Test func negativeFloatsAreRefused() throws {
        let error = try load(with("gemma3.rope.freq_base", .float32(-10_000)))
        expectInvalid("gemma3.rope.freq_base", "-10000.0") { if let error { throw error } }
    }

    @Test func parametersBeyondMemoryAreRefusedBeforeAllocating() throws {
        var file = TinyGGUF.gemma3(tensors: false)
        file["gemma3.block_count"] = .uint32(1_024)
        file["gemma3.embedding_length"] = .uint32(65_536)
        file["gemma3.feed_forward_length"] = .uint32(262_144)
        let error = try load(file)
        guard case .tooLarge(let model, let bytes, let limit)? = error as? ModelLoadError else {
            Issue.record("unexpected \(String(describing: error))")
            return
        }
        #expect(bytes > limit && model.contains("gemma3.block_count 1024"))
    }

    @Test func theRandomInitializerChecksToo() {
        let config = DecoderConfig.gemma3(layers: 1, width: 8, heads: 2, kvHeads: 0, headSize: 4, feedForwardWidth: 16,
                                  vocabularySize: 5, context: 16)
        expectInvalid("gemma3.attention.head_count_kv", "0") { _ = try DecoderModel(randomWeightsFor: config, seed: 1) }
        var pattern = DecoderConfig.gemma3(layers: 1, width: 8, heads: 2, kvHeads: 1, headSize: 4, feedForwardWidth: 16,
                                   vocabularySize: 5, context: 16)
        pattern.slidingWindowPattern = 0
        expectInvalid("sliding_window_pattern", "0") { _ = try DecoderModel(randomWeightsFor: pattern, seed: 1) }
    }

    @Test func aValidTinyGGUFStillLoadsAndRuns() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = try TinyGGUF.gemma3().write(in: directory)
        let model = try #require(try ModelLoader.load(directory) as? DecoderModel)
        #expect(model.config == DecoderConfig.gemma3(layers: 1, width: 8, heads: 2, kvHeads: 1, headSize: 4, feedForwardWidth: 16,
                                             vocabularySize: 6, context: 64, slidingWindow: 4))
        #expect(try DecoderModel.load(gguf: url).parameters.array == model.parameters.array)
        let logits = try model.forward(ids: [[2, 4, 5]]) { .lastTokens(of: $0) }
        let finite = logits.row(0).allSatisfy { $0.isFinite }
        #expect(finite)
    }

    @Test func twoGGUFFilesInADirectoryAreNamedNotGuessed() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try TinyGGUF.gemma3().write("model-q4.gguf", in: directory)
        try TinyGGUF.gemma3().write("model-q8.gguf", in: directory)
        let error = #expect(throws: ModelLoadError.severalModelFiles(directory: directory.path,
                                                                     files: ["model-q4.gguf", "model-q8.gguf"])) {
            try ModelLoader.load(directory)
        }
        #expect(error?.description.contains("model-q4.gguf, model-q8.gguf") == true)
        // Named on its own, either file loads.
        #expect(try ModelLoader.load(directory.appendingPathComponent("model-q8.gguf")) is DecoderModel)
    }

    @Test func aDirectoryReachedThroughASymlinkLoads() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let target = directory.appendingPathComponent("real")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try TinyGGUF.gemma3().write(in: target)
        let link = directory.appendingPathComponent("link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(try ModelLoader.load(link) is DecoderModel)
    }
}
