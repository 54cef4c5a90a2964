// A byte-level BPE vocabulary in GGUF metadata (`tokenizer.ggml.model` "gpt2": Qwen2, Llama 3, …) as a GPT2Tokenizer.
// Follows transformers' `integrations/gguf` (`byte_level_tokenizer`, `add_gguf_special_tokens`, `set_split_regex`):
// control tokens (type 3) and user-defined ones (type 4) are matched whole in the text; the regex comes from
// `tokenizer.ggml.pre`, and a name this package has no scanner for is refused rather than split with another regex.

import WeightFiles

extension GPT2Tokenizer {
    /// GGUF token types (`tokenizer.ggml.token_type`, llama.cpp's `llama_token_type`).
    enum GGUFTokenType: Int {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// The byte-level BPE tokenizer of a GGUF whose `tokenizer.ggml.model` is "gpt2". Missing or mistyped keys,
    /// arrays of different lengths, duplicate tokens, merges of tokens not in the vocabulary and special ids outside
    /// it throw, naming the key; an unknown `tokenizer.ggml.pre` is *unsupported*.
    public convenience init(gguf metadata: GGUFMetadata) throws {
        let file = metadata.file
        func malformed(_ reason: String) -> TokenizerError { .malformedFile(path: file, reason: reason) }
        func missing(_ key: String, _ what: String) -> TokenizerError { malformed("\(key) is missing or is not \(what)") }

        let modelKey = "tokenizer.ggml.model"
        guard let modelName = metadata[modelKey]?.stringValue else { throw missing(modelKey, "a string") }
        guard modelName == "gpt2" else {
            throw TokenizerError.unsupported(
                path: file, reason: "\(modelKey) is \"\(modelName)\"; only byte-level BPE (\"gpt2\") is read this way")
        }
        let preKey = "tokenizer.ggml.pre"
        guard let preName = metadata[preKey]?.stringValue else {
            throw TokenizerError.unsupported(
                path: file, reason: "\(preKey) is missing, so the regex its merges were learned on is unknown")
        }
        guard let pattern = PreTokenizerPattern(rawValue: preName) else {
            let known = PreTokenizerPattern.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            throw TokenizerError.unsupported(
                path: file, reason: "\(preKey) is \"\(preName)\", a pre-tokenizer this package does not implement (known: \(known))")
        }

        guard let tokens = metadata["tokenizer.ggml.tokens"]?.stringArray else {
            throw missing("tokenizer.ggml.tokens", "an array of strings")
        }
        guard !tokens.isEmpty, tokens.count <= TokenizerLimits.vocabularySize else {
            throw malformed("tokenizer.ggml.tokens holds \(tokens.count) tokens; expected 1 to \(TokenizerLimits.vocabularySize)")
        }
        let typeKey = "tokenizer.ggml.token_type"
        guard let rawTypes = metadata[typeKey]?.intArray else { throw missing(typeKey, "an array of integers") }
        guard rawTypes.count == tokens.count else {
            throw malformed("\(typeKey) holds \(rawTypes.count) values for the \(tokens.count) tokens of tokenizer.ggml.tokens")
        }
        var types: [GGUFTokenType] = []
        types.reserveCapacity(rawTypes.count)
        for (id, raw) in rawTypes.enumerated() {
            guard let type = GGUFTokenType(rawValue: raw) else {
                throw malformed("\(typeKey)[\(id)] is \(raw); token types are 1 to 6")
            }
            types.append(type)
        }
        let mergesKey = "tokenizer.ggml.merges"
        guard let mergeLines = metadata[mergesKey]?.stringArray else { throw missing(mergesKey, "an array of strings") }

        var vocabulary: [String: Int32] = [:]
        vocabulary.reserveCapacity(tokens.count)
        var addedTokens: [String: Int32] = [:]
        var controlIDs: [Int32] = []
        for (index, token) in tokens.enumerated() {
            let id = Int32(index)
            if let earlier = vocabulary.updateValue(id, forKey: token) {
                throw malformed("tokenizer.ggml.tokens holds \(token.debugDescription) twice, as ids \(earlier) and \(id)")
            }
            switch types[index] {
            case .control, .userDefined:
                guard !token.isEmpty else { throw malformed("token \(id) is an empty \(types[index]) token") }
                addedTokens[token] = id
                if types[index] == .control { controlIDs.append(id) }
            case .unknown, .unused:
                controlIDs.append(id)
            case .normal, .byte:
                break
            }
        }

        var merges: [(String, String)] = []
        merges.reserveCapacity(mergeLines.count)
        for (index, line) in mergeLines.enumerated() {
            guard let pair = Self.mergePair(line) else {
                throw malformed("\(mergesKey)[\(index)] (\(line.debugDescription)) is not two tokens separated by one space")
            }
            merges.append(pair)
        }

        func id(_ name: String) throws -> Int32? {
            let key = "tokenizer.ggml.\(name)"
            guard let value = metadata[key] else { return nil }
            guard let id = value.intValue else { throw missing(key, "an integer") }
            guard id >= 0, id < tokens.count else { throw malformed("\(key) is \(id), outside the \(tokens.count) tokens") }
            return Int32(id)
        }
        let addBOSKey = "tokenizer.ggml.add_bos_token"
        var addsBOS = false  // transformers' default for a byte-level vocabulary
        if let stored = metadata[addBOSKey] {
            guard let flag = stored.boolValue else { throw missing(addBOSKey, "a bool") }
            addsBOS = flag
        }
        let beginning = try id("bos_token_id")
        let special = SpecialTokens(
            endOfText: try id("eos_token_id"), beginningOfSequence: beginning, padding: try id("padding_token_id"),
            unknown: try id("unknown_token_id"), addsBeginningOfSequence: addsBOS && beginning != nil)

        try self.init(
            vocabulary: vocabulary, merges: merges, addedTokens: addedTokens, pattern: pattern, controlIDs: controlIDs,
            specialTokens: special, source: file)
    }
}
