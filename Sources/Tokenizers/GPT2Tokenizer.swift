// GPT-2's byte-level BPE tokenizer in Swift: pre-tokenize, spell bytes, merge by rank, cache per word.
// Follows OpenAI's gpt-2 `encoder.py`; ids match tiktoken's `gpt2` encoding and Hugging Face's GPT2Tokenizer.
// The same machinery with Qwen2's pre-tokenizer is Qwen2's tokenizer (GGUFByteLevelTokenizer.swift).

import Foundation

/// GPT-2 byte-level BPE, and the byte-level BPE vocabularies that differ from it only in their
/// pre-tokenizer regex (`PreTokenizerPattern`: Qwen2).
///
/// Special tokens in the input text: like Hugging Face's GPT2Tokenizer (and tiktoken with
/// `allowed_special="all"`), the text `<|endoftext|>` is encoded as the single special id 50256, not as
/// the characters `<`, `|`, …. Added tokens from a `tokenizer.json` or a GGUF file are matched the same way.
/// GPT-2 adds no beginning-of-sequence token, so `encode(_:addSpecial: true)` equals `encode(_:)`.
public final class GPT2Tokenizer: Tokenizer, @unchecked Sendable {
    public let vocabularySize: Int
    public let specialTokens: SpecialTokens
    /// The regex that splits text into the words BPE merges.
    public let pattern: PreTokenizerPattern

    /// `spellings[id]`: the entry in the byte alphabet (`Ġgreat`), or the content of an added token.
    private let spellings: [String]
    private let idsBySpelling: [String: Int32]
    /// `bytesByID[id]`: the bytes the id stands for.
    private let bytesByID: [[UInt8]]
    private let isAddedToken: [Bool]
    /// `isControl[id]`: a control, unknown or unused token, besides the special ids.
    private let isControl: [Bool]
    /// `byteIDs[b]`: the id of the single byte `b`, where every BPE word starts.
    private let byteIDs: [Int32]
    let merges: BytePairMerges
    /// Added tokens matched whole in the input, longest first.
    private let addedTokens: [(bytes: [UInt8], id: Int32)]
    private let startsAddedToken: [Bool]

    /// The cache and scratch buffers are mutable state shared by every caller, hence the lock.
    private let lock = NSLock()
    private var cache = WordCache()
    private var preTokenizer: GPT2PreTokenizer
    private var symbols: [Int32] = []

    private static let longestCachedWord = 128

    /// Builds the tokenizer from a vocabulary in the byte alphabet (`Ġgreat` → id), ranked merges
    /// (pairs of vocabulary entries), and added tokens (content → id) matched whole in the text.
    /// `controlIDs` are ids no readable text holds (`isControlToken`); `specialTokens` defaults to GPT-2's,
    /// all `<|endoftext|>`.
    public init(
        vocabulary: [String: Int32], merges: [(String, String)], addedTokens: [String: Int32] = [:],
        pattern: PreTokenizerPattern = .gpt2, controlIDs: [Int32] = [], specialTokens: SpecialTokens? = nil,
        source: String = "vocabulary"
    ) throws {
        // Every table below is sized by the largest id: bound the ids before anything is allocated.
        let tooLarge = { (entry: (key: String, value: Int32)) in entry.value >= TokenizerLimits.vocabularySize }
        if let (spelling, id) = vocabulary.first(where: tooLarge) ?? addedTokens.first(where: tooLarge) {
            throw TokenizerError.malformedFile(
                path: source,
                reason: "token \(spelling.debugDescription) has id \(id); ids must be below \(TokenizerLimits.vocabularySize)")
        }
        var size = 0
        for (_, id) in vocabulary where id >= 0 { size = max(size, Int(id) + 1) }
        for (_, id) in addedTokens where id >= 0 { size = max(size, Int(id) + 1) }
        guard size > 0 else { throw TokenizerError.malformedFile(path: source, reason: "the vocabulary is empty") }

        var spellings = [String](repeating: "", count: size)
        var bytesByID = [[UInt8]](repeating: [], count: size)
        var isAdded = [Bool](repeating: false, count: size)
        var idsBySpelling: [String: Int32] = [:]
        idsBySpelling.reserveCapacity(size)
        for (spelling, id) in vocabulary {
            guard id >= 0 else {
                throw TokenizerError.malformedFile(path: source, reason: "token \(spelling.debugDescription) has negative id \(id)")
            }
            guard let bytes = ByteLevelAlphabet.bytes(of: spelling) else {
                // An added token may also sit in the vocabulary under its plain spelling.
                if addedTokens[spelling] == id { continue }
                throw TokenizerError.malformedFile(
                    path: source,
                    reason: "token \(spelling.debugDescription) (id \(id)) uses a character outside GPT-2's byte alphabet")
            }
            spellings[Int(id)] = spelling
            bytesByID[Int(id)] = bytes
            idsBySpelling[spelling] = id
        }
        for (content, id) in addedTokens {
            guard id >= 0, !content.isEmpty else {
                throw TokenizerError.malformedFile(path: source, reason: "added token \(content.debugDescription) has id \(id)")
            }
            spellings[Int(id)] = content
            bytesByID[Int(id)] = Array(content.utf8)
            isAdded[Int(id)] = true
            idsBySpelling[content] = id
        }

        var byteIDs = [Int32](repeating: -1, count: 256)
        for byte in 0..<256 {
            guard let id = vocabulary[String(ByteLevelAlphabet.scalars[byte])] else {
                throw TokenizerError.malformedFile(
                    path: source, reason: String(format: "the vocabulary lacks the single byte 0x%02X, which byte-level BPE needs", byte))
            }
            byteIDs[byte] = id
        }

        var ranked: [(left: Int32, right: Int32, merged: Int32)] = []
        ranked.reserveCapacity(merges.count)
        for (rank, (left, right)) in merges.enumerated() {
            guard let l = vocabulary[left], let r = vocabulary[right], let m = vocabulary[left + right] else {
                throw TokenizerError.malformedFile(
                    path: source,
                    reason: "merge \(rank + 1) (\(left) \(right)) names a token that is not in the vocabulary")
            }
            ranked.append((l, r, m))
        }

        let added = addedTokens.map { (bytes: Array($0.key.utf8), id: $0.value) }
            .sorted { $0.bytes.count > $1.bytes.count }
        var starts = [Bool](repeating: false, count: 256)
        for token in added { starts[Int(token.bytes[0])] = true }

        var isControl = [Bool](repeating: false, count: size)
        for id in controlIDs {
            guard id >= 0, Int(id) < size else {
                throw TokenizerError.malformedFile(path: source, reason: "control token id \(id) is outside 0..<\(size)")
            }
            isControl[Int(id)] = true
        }
        if let special = specialTokens {
            let ids = [("end-of-text", special.endOfText), ("beginning-of-sequence", special.beginningOfSequence),
                       ("padding", special.padding), ("unknown", special.unknown)]
            for (name, id) in ids {
                if let id, id < 0 || Int(id) >= size {
                    throw TokenizerError.malformedFile(path: source, reason: "the \(name) id \(id) is outside 0..<\(size)")
                }
            }
        }

        self.vocabularySize = size
        self.pattern = pattern
        self.isControl = isControl
        self.preTokenizer = GPT2PreTokenizer(pattern: pattern)
        self.spellings = spellings
        self.idsBySpelling = idsBySpelling
        self.bytesByID = bytesByID
        self.isAddedToken = isAdded
        self.byteIDs = byteIDs
        self.merges = BytePairMerges(ranked)
        self.addedTokens = added
        self.startsAddedToken = starts
        let endOfText = addedTokens["<|endoftext|>"] ?? vocabulary["<|endoftext|>"]
        // Hugging Face's GPT-2 uses <|endoftext|> as bos, eos and unk, and adds none of them when encoding.
        self.specialTokens = specialTokens ?? SpecialTokens(
            endOfText: endOfText, beginningOfSequence: endOfText, padding: nil, unknown: endOfText,
            addsBeginningOfSequence: false)
    }

    // MARK: Encoding

    public func encode(_ text: String) -> [Int32] {
        var text = text
        return text.withUTF8 { bytes in
            lock.lock()
            defer { lock.unlock() }
            return encodeLocked(bytes)
        }
    }

    private func encodeLocked(_ text: UnsafeBufferPointer<UInt8>) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(text.count / 3 + 4)
        var segmentStart = 0
        var i = 0
        if !addedTokens.isEmpty {
            while i < text.count {
                if startsAddedToken[Int(text[i])], let token = addedToken(in: text, at: i) {
                    encodeOrdinary(UnsafeBufferPointer(rebasing: text[segmentStart..<i]), into: &output)
                    output.append(token.id)
                    i += token.length
                    segmentStart = i
                } else {
                    i += 1
                }
            }
        }
        encodeOrdinary(UnsafeBufferPointer(rebasing: text[segmentStart..<text.count]), into: &output)
        return output
    }

    /// The longest added token that starts at byte `i`.
    private func addedToken(in text: UnsafeBufferPointer<UInt8>, at i: Int) -> (id: Int32, length: Int)? {
        for token in addedTokens where token.bytes.count <= text.count - i {
            var matches = true
            for k in 0..<token.bytes.count where text[i + k] != token.bytes[k] {
                matches = false
                break
            }
            if matches { return (token.id, token.bytes.count) }
        }
        return nil
    }

    /// Encodes text that holds no added token: pre-tokenize, then BPE each word (through the cache).
    private func encodeOrdinary(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        guard !text.isEmpty else { return }
        preTokenizer.split(text) { range in
            if range.count == 1 {
                output.append(byteIDs[Int(text[range.lowerBound])])
                return
            }
            let word = UnsafeBufferPointer(rebasing: text[range])
            let cacheable = word.count <= Self.longestCachedWord
            let hash = cacheable ? WordCache.hash(word) : 0
            if cacheable && cache.appendCached(word, hash: hash, to: &output) { return }
            symbols.removeAll(keepingCapacity: true)
            for byte in word { symbols.append(byteIDs[Int(byte)]) }
            merges.apply(to: &symbols)
            output.append(contentsOf: symbols)
            if cacheable { cache.insert(word, hash: hash, ids: symbols[...]) }
        }
    }

    /// The id of the single byte `byte`.
    func byteID(_ byte: UInt8) -> Int32 { byteIDs[Int(byte)] }

    // MARK: Decoding and the vocabulary

    public func decode(_ ids: [Int32]) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(ids.count * 4)
        for id in ids where id >= 0 && Int(id) < vocabularySize {
            bytes.append(contentsOf: bytesByID[Int(id)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public func token(for id: Int32) -> String? {
        guard id >= 0, Int(id) < vocabularySize, !spellings[Int(id)].isEmpty else { return nil }
        return spellings[Int(id)]
    }

    public func id(for token: String) -> Int32? { idsBySpelling[token] }

    public func readableToken(for id: Int32) -> String? {
        guard id >= 0, Int(id) < vocabularySize, !spellings[Int(id)].isEmpty else { return nil }
        if isAddedToken[Int(id)] { return spellings[Int(id)] }
        return ReadableToken.render(bytesByID[Int(id)])
    }

    public func isControlToken(_ id: Int32) -> Bool {
        specialTokens.contains(id) || (id >= 0 && Int(id) < vocabularySize && isControl[Int(id)])
    }
}
