// Reading GPT-2 vocabularies from disk: OpenAI's encoder.json + vocab.bpe, Hugging Face's
// vocab.json + merges.txt (the same formats), and the byte-level BPE kind of Hugging Face's tokenizer.json.

import Foundation

extension GPT2Tokenizer {
    /// Loads OpenAI's `encoder.json` + `vocab.bpe`, or Hugging Face's `vocab.json` + `merges.txt`.
    /// `<|endoftext|>`, when the vocabulary has it, is matched whole in the text.
    public convenience init(vocabularyFile: URL, mergesFile: URL) throws {
        let vocabulary = try Self.readVocabulary(vocabularyFile)
        let merges = try Self.readMerges(mergesFile)
        var added: [String: Int32] = [:]
        if let endOfText = vocabulary["<|endoftext|>"] { added["<|endoftext|>"] = endOfText }
        try self.init(vocabulary: vocabulary, merges: merges, addedTokens: added, source: vocabularyFile.path)
    }

    /// Loads a Hugging Face `tokenizer.json` whose model is BPE with a byte-level pre-tokenizer: GPT-2's regex, or
    /// Qwen2's (a Split on its regex before a ByteLevel without one). Added tokens marked special are control tokens.
    public convenience init(tokenizerJSON file: URL) throws {
        let root = try Self.readJSON(file)
        let path = file.path
        guard let model = root["model"] as? [String: Any], let type = model["type"] as? String else {
            throw TokenizerError.malformedFile(path: path, reason: "no \"model\" object with a \"type\"")
        }
        guard type == "BPE" else {
            throw TokenizerError.unsupported(path: path, reason: "model type \(type); only byte-level BPE is read from tokenizer.json")
        }
        guard let pattern = Self.byteLevelPattern(root["pre_tokenizer"]) else {
            throw TokenizerError.unsupported(
                path: path, reason: "its pre-tokenizer is neither GPT-2's ByteLevel split nor Qwen2's (only their regexes are implemented)")
        }
        guard let vocabularyObject = model["vocab"] as? [String: Any] else {
            throw TokenizerError.malformedFile(path: path, reason: "\"model.vocab\" is not an object")
        }
        let vocabulary = try Self.ids(vocabularyObject, path: path)
        var merges: [(String, String)] = []
        for (index, entry) in ((model["merges"] as? [Any]) ?? []).enumerated() {
            if let line = entry as? String, let pair = Self.mergePair(line) {
                merges.append(pair)
            } else if let pair = entry as? [String], pair.count == 2 {
                merges.append((pair[0], pair[1]))
            } else {
                throw TokenizerError.malformedFile(path: path, reason: "merge \(index + 1) is neither \"a b\" nor [\"a\", \"b\"]")
            }
        }
        var added: [String: Int32] = [:], control: [Int32] = []
        for (index, entry) in ((root["added_tokens"] as? [[String: Any]]) ?? []).enumerated() {
            guard let content = entry["content"] as? String, let number = entry["id"] as? NSNumber else {
                throw TokenizerError.malformedFile(path: path, reason: "added_tokens[\(index)] lacks \"content\" or \"id\"")
            }
            // Bounded here, where the key is known: the tokenizer sizes its tables by the largest id.
            guard let id = Int32(exactly: number.doubleValue), (0..<Int32(TokenizerLimits.vocabularySize)).contains(id) else {
                throw TokenizerError.malformedFile(
                    path: path,
                    reason: "added_tokens[\(index)].id (\(content.debugDescription)) is \(number); expected an integer in 0..<\(TokenizerLimits.vocabularySize)")
            }
            added[content] = id
            if entry["special"] as? Bool == true { control.append(id) }
        }
        try self.init(vocabulary: vocabulary, merges: merges, addedTokens: added, pattern: pattern, controlIDs: control, source: path)
    }

    /// Qwen2's pre-tokenizer regex as its tokenizer.json spells it.
    static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    /// The split a byte-level pre-tokenizer makes: a ByteLevel step with its own (GPT-2) regex, or a Split on
    /// Qwen2's regex followed by a ByteLevel step without one. nil for anything else.
    private static func byteLevelPattern(_ preTokenizer: Any?) -> PreTokenizerPattern? {
        guard let object = preTokenizer as? [String: Any], let type = object["type"] as? String else { return nil }
        if type == "ByteLevel" { return (object["use_regex"] as? Bool) ?? true ? .gpt2 : nil }
        guard type == "Sequence", let steps = object["pretokenizers"] as? [[String: Any]] else { return nil }
        if steps.count == 1 { return byteLevelPattern(steps[0]) }
        guard steps.count == 2, steps[0]["type"] as? String == "Split",
              (steps[0]["pattern"] as? [String: Any])?["Regex"] as? String == qwen2Regex,
              steps[0]["behavior"] as? String == "Isolated",
              steps[1]["type"] as? String == "ByteLevel", steps[1]["use_regex"] as? Bool == false else { return nil }
        return .qwen2
    }

    static func readJSON(_ file: URL) throws -> [String: Any] {
        let data = try readFile(file)
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw TokenizerError.malformedFile(path: file.path, reason: "the top level is not a JSON object")
            }
            return object
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw TokenizerError.malformedFile(path: file.path, reason: "not valid JSON (\(error.localizedDescription))")
        }
    }

    static func readFile(_ file: URL) throws -> Data {
        do {
            return try Data(contentsOf: file)
        } catch {
            throw TokenizerError.unreadableFile(path: file.path, reason: error.localizedDescription)
        }
    }

    /// `{"token": id, …}` as read from encoder.json / vocab.json.
    static func readVocabulary(_ file: URL) throws -> [String: Int32] {
        try ids(readJSON(file), path: file.path)
    }

    private static func ids(_ object: [String: Any], path: String) throws -> [String: Int32] {
        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(object.count)
        for (token, value) in object {
            guard let number = value as? NSNumber, let id = Int32(exactly: number.doubleValue) else {
                throw TokenizerError.malformedFile(path: path, reason: "the id of \(token.debugDescription) is not an integer")
            }
            vocabulary[token] = id
        }
        return vocabulary
    }

    /// The ranked merges of vocab.bpe / merges.txt: one `left right` pair per line after a `#version` line.
    static func readMerges(_ file: URL) throws -> [(String, String)] {
        let data = try readFile(file)
        guard let text = String(data: data, encoding: .utf8) else {
            throw TokenizerError.malformedFile(path: file.path, reason: "not UTF-8 text")
        }
        var merges: [(String, String)] = []
        merges.reserveCapacity(50_000)
        // "\r\n" is one Character in Swift, so it is a separator of its own.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        for (number, line) in lines.enumerated() {
            if line.isEmpty || (number == 0 && line.hasPrefix("#version")) { continue }
            guard let pair = mergePair(line) else {
                throw TokenizerError.malformedFile(path: file.path, reason: "line \(number + 1) is not two tokens separated by one space")
            }
            merges.append(pair)
        }
        return merges
    }

    static func mergePair(_ line: some StringProtocol) -> (String, String)? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }
}
