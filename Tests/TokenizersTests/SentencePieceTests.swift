// SentencePiece through the shim: a model trained at test time, corrupt input, and a model built from arrays.

import Foundation
import Testing
@testable import Tokenizers

@Suite struct SentencePieceTests {
    /// Trains a small model on generated sentences; returns the model file.
    static func trainSmallModel(in directory: URL, modelType: SentencePieceVocabulary.ModelType) throws -> URL {
        let words = ["the", "film", "was", "great", "boring", "actors", "story", "plot", "music", "and", "but",
                     "not", "very", "quite", "funny", "sad", "long", "short", "scene", "ending", "we", "loved"]
        var random = SeededGenerator(state: 7)
        var lines: [String] = []
        for _ in 0..<400 {
            let count = Int.random(in: 3...12, using: &random)
            lines.append((0..<count).map { _ in words.randomElement(using: &random)! }.joined(separator: " ") + ".")
        }
        lines.append("Unicode: café, naïve, 日本語, emoji 🙂.")
        let input = directory.appendingPathComponent("corpus.txt")
        try lines.joined(separator: "\n").write(to: input, atomically: true, encoding: .utf8)
        return try SentencePieceTokenizer.train(
            input: input, modelPrefix: directory.appendingPathComponent("small"), vocabularySize: 80,
            modelType: modelType,
            options: ["character_coverage": "1.0", "hard_vocab_limit": "false", "num_threads": "1"])
    }

    @Test(arguments: [SentencePieceVocabulary.ModelType.unigram, .bpe])
    func trainedModelRoundTrips(modelType: SentencePieceVocabulary.ModelType) throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let modelFile = try Self.trainSmallModel(in: directory, modelType: modelType)
        let tokenizer = try SentencePieceTokenizer(modelFile: modelFile)
        #expect(tokenizer.vocabularySize > 40 && tokenizer.vocabularySize <= 80)
        #expect(tokenizer.specialTokens.unknown == 0)
        #expect(tokenizer.specialTokens.beginningOfSequence == 1)
        #expect(tokenizer.specialTokens.endOfText == 2)

        for text in ["the film was great.", "we loved the ending, but not the music", "café 日本語 🙂 and", ""] {
            let ids = tokenizer.encode(text)
            #expect(ids.allSatisfy { $0 >= 0 && Int($0) < tokenizer.vocabularySize })
            #expect(tokenizer.decode(ids) == text, "\(text.debugDescription)")
        }
        let sample = "very long scene"
        let ids = tokenizer.encode(sample)
        #expect(tokenizer.encode(sample, addSpecial: true) == [1] + ids)
        #expect(ids.count <= 6, "frequent words should be whole pieces: \(ids.map { tokenizer.token(for: $0) ?? "?" })")

        // Pieces and ids agree both ways, and readable tokens show spaces, not ▁.
        for id in ids {
            let piece = try #require(tokenizer.token(for: id))
            #expect(tokenizer.id(for: piece) == id)
            #expect(tokenizer.readableToken(for: id) == piece.replacingOccurrences(of: "\u{2581}", with: " "))
        }
        #expect(tokenizer.id(for: "no such piece") == nil)
        #expect(tokenizer.token(for: Int32(tokenizer.vocabularySize)) == nil)
        #expect(tokenizer.decode([-1, 100_000]) == "")

        // The same model through the loader and from its bytes.
        let loaded = try TokenizerLoader.load(directory: try Self.directoryHolding(modelFile, in: directory))
        #expect(loaded.encode(sample) == ids)
        let fromBytes = try SentencePieceTokenizer(serializedModel: Array(Data(contentsOf: modelFile)))
        #expect(fromBytes.encode(sample) == ids)
    }

    static func directoryHolding(_ modelFile: URL, in directory: URL) throws -> URL {
        let modelDirectory = directory.appendingPathComponent("model")
        try FileManager.default.createDirectory(at: modelDirectory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: modelFile, to: modelDirectory.appendingPathComponent("tokenizer.model"))
        return modelDirectory
    }

    @Test func corruptModelIsRejectedWithTheLibraryMessage() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("tokenizer.model")
        try Data("this is not a protobuf \u{1}\u{2}\u{3}".utf8).write(to: file)
        do {
            _ = try SentencePieceTokenizer(modelFile: file)
            Issue.record("a corrupt model loaded")
        } catch let error as TokenizerError {
            guard case .sentencePiece(let operation, let message) = error else {
                Issue.record("unexpected error \(error)"); return
            }
            #expect(operation.contains("tokenizer.model"))
            #expect(!message.isEmpty)
            #expect(error.description.contains("SentencePiece could not load"))
        }
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(serializedModel: [0xFF, 0xFF, 0xFF]) }
        #expect(throws: TokenizerError.self) {
            try SentencePieceTokenizer(modelFile: directory.appendingPathComponent("missing.model"))
        }
    }

    @Test func trainingErrorsBecomeSwiftErrors() throws {
        let directory = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: TokenizerError.self) {
            try SentencePieceTokenizer.train(
                input: directory.appendingPathComponent("missing.txt"),
                modelPrefix: directory.appendingPathComponent("m"), vocabularySize: 50)
        }
    }

    /// A hand-made BPE vocabulary: pieces merge by score, spaces become ▁, unknown characters fall back to bytes.
    static func handMadeVocabulary(addsSpacePrefix: Bool = false) -> SentencePieceVocabulary {
        var pieces = ["<pad>", "<eos>", "<bos>", "<unk>"]
        var types: [SentencePieceVocabulary.PieceType] = [.control, .control, .control, .unknown]
        for byte in 0..<256 {
            pieces.append(String(format: "<0x%02X>", byte))
            types.append(.byte)
        }
        let normal = ["\u{2581}", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "hell", "hello",
                      "\u{2581}w", "or", "\u{2581}wor", "ld", "\u{2581}world", "  "]
        pieces += normal
        types += Array(repeating: .normal, count: normal.count)
        pieces.append("<start_of_turn>")
        types.append(.userDefined)
        // Higher score merges first; single characters never merge, so their score does not matter.
        let scores = pieces.indices.map { -Float($0) }
        return SentencePieceVocabulary(
            pieces: pieces, scores: scores, types: types, unknownID: 3, beginningOfSequenceID: 2,
            endOfSequenceID: 1, paddingID: 0, addsBeginningOfSequence: true, addsSpacePrefix: addsSpacePrefix,
            modelType: .bpe)
    }

    @Test func modelBuiltFromVocabularyArrays() throws {
        let vocabulary = Self.handMadeVocabulary()
        let tokenizer = try SentencePieceTokenizer(vocabulary: vocabulary)
        let id = { (piece: String) in Int32(vocabulary.pieces.firstIndex(of: piece)!) }
        #expect(tokenizer.vocabularySize == vocabulary.pieces.count)
        #expect(tokenizer.specialTokens == SpecialTokens(
            endOfText: 1, beginningOfSequence: 2, padding: 0, unknown: 3, addsBeginningOfSequence: true))

        #expect(tokenizer.encode("hello world") == [id("hello"), id("\u{2581}world")])
        #expect(tokenizer.encode("hello world", addSpecial: true) == [2, id("hello"), id("\u{2581}world")])
        // "é" is not a piece: byte fallback gives its two UTF-8 bytes.
        #expect(tokenizer.encode("hé") == [id("h"), id("<0xC3>"), id("<0xA9>")])
        // A user-defined piece is matched whole; a run of spaces stored with real spaces matches as ▁▁.
        #expect(tokenizer.encode("<start_of_turn>hello") == [id("<start_of_turn>"), id("hello")])
        #expect(tokenizer.encode("  ") == [id("  ")])
        #expect(tokenizer.decode(tokenizer.encode("hello  wéird")) == "hello  wéird")
        #expect(tokenizer.token(for: id("  ")) == "\u{2581}\u{2581}")

        #expect(tokenizer.readableToken(for: id("\u{2581}world")) == " world")
        #expect(tokenizer.readableToken(for: id("<0xC3>")) == "<0xC3>")
        #expect(tokenizer.readableToken(for: id("<0x0A>")) == "\\n")
        #expect(tokenizer.readableToken(for: 2) == "<bos>")
        #expect(tokenizer.pieceType(for: id("<0xC3>")) == 6)
        #expect(tokenizer.pieceType(for: 3) == 2)
    }

    @Test func controlPiecesInText() throws {
        let vocabulary = Self.handMadeVocabulary()
        let id = { (piece: String) in Int32(vocabulary.pieces.firstIndex(of: piece)!) }
        let matching = try SentencePieceTokenizer(vocabulary: vocabulary)
        #expect(matching.encode("<bos>hello<eos>") == [2, id("hello"), 1])
        #expect(matching.decode([2, id("hello")]) == "<bos>hello")

        var literal = vocabulary
        literal.matchesControlPiecesInText = false
        let tokenizer = try SentencePieceTokenizer(vocabulary: literal)
        #expect(!tokenizer.encode("<bos>hello").contains(2))
        #expect(tokenizer.decode([2, id("hello")]) == "hello")
    }

    @Test func spacePrefixOption() throws {
        let tokenizer = try SentencePieceTokenizer(vocabulary: Self.handMadeVocabulary(addsSpacePrefix: true))
        let vocabulary = Self.handMadeVocabulary()
        let id = { (piece: String) in Int32(vocabulary.pieces.firstIndex(of: piece)!) }
        #expect(tokenizer.encode("world") == [id("\u{2581}world")])
        #expect(tokenizer.decode([id("\u{2581}world")]) == "world")
    }

    @Test func inconsistentVocabularyIsRejected() throws {
        var vocabulary = Self.handMadeVocabulary()
        vocabulary.scores.removeLast()
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(vocabulary: vocabulary) }

        vocabulary = Self.handMadeVocabulary()
        vocabulary.beginningOfSequenceID = 100_000
        #expect(throws: TokenizerError.self) { try SentencePieceTokenizer(vocabulary: vocabulary) }

        // Missing byte pieces with byte fallback on: the library's own check, reported with its message.
        vocabulary = Self.handMadeVocabulary()
        vocabulary.pieces.remove(at: 10)
        vocabulary.scores.remove(at: 10)
        vocabulary.types.remove(at: 10)
        do {
            _ = try SentencePieceTokenizer(vocabulary: vocabulary)
            Issue.record("a vocabulary without byte 0x06 loaded")
        } catch let error as TokenizerError {
            #expect(error.description.contains("256 byte pieces"), "\(error)")
        }
    }
}
