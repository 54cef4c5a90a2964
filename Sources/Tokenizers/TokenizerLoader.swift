// Finding and loading the tokenizer stored in a model directory, whatever its file format.
// File names are those of Hugging Face model repositories, OpenAI's GPT-2 release, and llama.cpp's GGUF.

import Foundation

/// Loads the tokenizer of a model directory.
public enum TokenizerLoader {
    /// The tokenizer files found in a directory, in the order they are tried.
    public enum Format: Equatable, Sendable {
        /// Hugging Face `tokenizer.json` (byte-level BPE only).
        case tokenizerJSON
        /// Hugging Face `vocab.json` + `merges.txt`.
        case vocabJSONAndMerges
        /// OpenAI `encoder.json` + `vocab.bpe`.
        case encoderJSONAndVocabBPE
        /// SentencePiece `tokenizer.model`.
        case sentencePieceModel
        /// The vocabulary in a GGUF file's metadata (SentencePiece, or byte-level BPE such as Qwen2's).
        case gguf(fileName: String)
    }

    /// The formats present in `directory`, most preferred first. `ggufFile` names the model's own GGUF
    /// when the caller knows it; otherwise every `.gguf` file in the directory is listed, in name order,
    /// and `load` refuses more than one.
    public static func formats(in directory: URL, ggufFile: String? = nil) -> [Format] {
        func exists(_ name: String) -> Bool {
            FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path)
        }
        var found: [Format] = []
        if exists("tokenizer.json") { found.append(.tokenizerJSON) }
        if exists("vocab.json") && exists("merges.txt") { found.append(.vocabJSONAndMerges) }
        if exists("encoder.json") && exists("vocab.bpe") { found.append(.encoderJSONAndVocabBPE) }
        if exists("tokenizer.model") { found.append(.sentencePieceModel) }
        let ggufFiles = ggufFile.map { [$0] } ?? ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".gguf") }.sorted()
        found += ggufFiles.map { .gguf(fileName: $0) }
        return found
    }

    /// Loads the tokenizer in `directory` (of the model file `ggufFile`, when given). A `tokenizer.json`
    /// this package cannot read (one that is not byte-level BPE, like Gemma's) gives way to the next
    /// format present. Two `.gguf` files are refused rather than one picked: each has its own vocabulary.
    public static func load(directory: URL, ggufFile: String? = nil) throws -> any Tokenizer {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw TokenizerError.unreadableFile(path: directory.path, reason: "no such directory")
        }
        let formats = formats(in: directory, ggufFile: ggufFile)
        guard !formats.isEmpty else { throw TokenizerError.noTokenizerFiles(directory: directory.path) }
        let ggufFiles = formats.compactMap { format -> String? in
            if case .gguf(let fileName) = format { return fileName }
            return nil
        }
        var firstError: Error?
        for format in formats {
            if case .gguf = format, ggufFiles.count > 1 {
                throw TokenizerError.severalGGUFFiles(directory: directory.path, files: ggufFiles)
            }
            do {
                return try load(format, directory: directory)
            } catch let error as TokenizerError {
                guard case .unsupported = error else { throw error }
                firstError = firstError ?? error
            }
        }
        throw firstError!
    }

    /// Loads one format from `directory`.
    public static func load(_ format: Format, directory: URL) throws -> any Tokenizer {
        let file = { (name: String) in directory.appendingPathComponent(name) }
        switch format {
        case .tokenizerJSON:
            return try GPT2Tokenizer(tokenizerJSON: file("tokenizer.json"))
        case .vocabJSONAndMerges:
            return try GPT2Tokenizer(vocabularyFile: file("vocab.json"), mergesFile: file("merges.txt"))
        case .encoderJSONAndVocabBPE:
            return try GPT2Tokenizer(vocabularyFile: file("encoder.json"), mergesFile: file("vocab.bpe"))
        case .sentencePieceModel:
            return try SentencePieceTokenizer(modelFile: file("tokenizer.model"))
        case .gguf(let fileName):
            return try GGUFTokenizer.load(file(fileName))
        }
    }
}
