// Byte-level BPE vocabularies in GGUF metadata (Qwen2's kind) on a tiny file: the pattern `tokenizer.ggml.pre` names,
// control and user-defined tokens matched whole, which ids are control, and bad metadata refused with a message.

import Foundation
import Testing
import TestSupport
@testable import Tokenizers

@Suite struct GGUFByteLevelTokenizerTests {
    func load(_ file: TinyGGUF) throws -> any Tokenizer {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try file.write(in: directory)
        return try TokenizerLoader.load(directory: directory)
    }

    /// Loading `file` throws a TokenizerError of the kind `expected` whose message holds every one of `words`.
    func expectRefused(
        _ file: TinyGGUF, unsupported expected: Bool = false, mentioning words: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let error = #expect(throws: TokenizerError.self, sourceLocation: sourceLocation) { try load(file) }
        guard let error else { return }
        switch error {
        case .unsupported where expected, .malformedFile where !expected: break
        default: Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
        for word in words {
            #expect(error.description.contains(word), "\(error) lacks \(word)", sourceLocation: sourceLocation)
        }
    }

    @Test func loadsAndEncodes() throws {
        let tokenizer = try load(TinyGGUF.byteLevelTokenizer())
        let bpe = try #require(tokenizer as? GPT2Tokenizer)
        #expect(bpe.pattern == .qwen2)
        #expect(tokenizer.vocabularySize == 265)
        #expect(tokenizer.specialTokens == SpecialTokens(
            endOfText: 261, beginningOfSequence: 261, padding: 261, unknown: nil, addsBeginningOfSequence: false))
        #expect(tokenizer.encode("hello") == [259])
        #expect(tokenizer.encode("hello", addSpecial: true) == [259])
        // Qwen2 splits digits one by one, so the merge "1 2" never applies.
        #expect(tokenizer.encode("12") == [49, 50])
        // Control and user-defined tokens are matched whole in the text, as transformers does.
        #expect(tokenizer.encode("<|im_start|>hello<tool_call>x<|endoftext|>") == [262, 259, 263, 120, 261])
        // An unused slot is an ordinary entry that BPE never produces.
        #expect(tokenizer.encode("[PAD264]") == Array("[PAD264]".utf8).map(Int32.init))
        for text in ["<|im_start|>hello<tool_call>", "héllo 12\n", "[PAD264]"] {
            #expect(tokenizer.decode(tokenizer.encode(text)) == text)
        }
        #expect(tokenizer.readableToken(for: 262) == "<|im_start|>")
        #expect(tokenizer.readableToken(for: 10) == "\\n")
    }

    @Test("\"gpt-2\" names GPT-2's regex, which keeps digits together")
    func gpt2Pattern() throws {
        let tokenizer = try load(TinyGGUF.byteLevelTokenizer(pre: "gpt-2"))
        #expect((tokenizer as? GPT2Tokenizer)?.pattern == .gpt2)
        #expect(tokenizer.encode("12") == [260])
    }

    @Test("control, unknown and unused tokens are control; user-defined and normal ones are not")
    func controlTokens() throws {
        let tokenizer = try load(TinyGGUF.byteLevelTokenizer())
        #expect(tokenizer.isControlToken(261))  // <|endoftext|>: control, and the special ids
        #expect(tokenizer.isControlToken(262))  // <|im_start|>: control
        #expect(tokenizer.isControlToken(264))  // [PAD264]: unused
        #expect(!tokenizer.isControlToken(263))  // <tool_call>: user-defined
        #expect(!tokenizer.isControlToken(259))
        #expect(!tokenizer.isControlToken(-1) && !tokenizer.isControlToken(265))
    }

    @Test("an unknown or missing tokenizer.ggml.pre is refused, not split with another regex")
    func unknownPreTokenizer() {
        expectRefused(
            TinyGGUF.byteLevelTokenizer(pre: "llama-bpe"), unsupported: true,
            mentioning: ["tokenizer.ggml.pre", "\"llama-bpe\"", "\"qwen2\""])
        var file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.pre"] = nil
        expectRefused(file, unsupported: true, mentioning: ["tokenizer.ggml.pre", "missing"])
    }

    @Test("an unknown tokenizer.ggml.model is refused, naming the kinds read")
    func unknownModel() {
        var file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.model"] = .string("rwkv")
        expectRefused(file, unsupported: true, mentioning: ["\"rwkv\"", "\"gpt2\"", "\"llama\""])
    }

    @Test func mergeOfMissingToken() {
        var file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.merges"] = .strings(["h e", "hel lo"])
        expectRefused(file, mentioning: ["merge 2", "hel lo", "not in the vocabulary"])
        file["tokenizer.ggml.merges"] = .strings(["h e", "hello"])
        expectRefused(file, mentioning: ["tokenizer.ggml.merges[1]", "one space"])
    }

    @Test func arraysOfDifferentLengths() {
        var file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.token_type"] = .int32s([1, 1, 1])
        expectRefused(file, mentioning: ["tokenizer.ggml.token_type", "3 values", "265 tokens"])
    }

    @Test func badTokenTypesIdsAndTokens() {
        var file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.token_type"] = .int32s([Int32](repeating: 1, count: 264) + [9])
        expectRefused(file, mentioning: ["tokenizer.ggml.token_type[264]", "9"])

        file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.bos_token_id"] = .uint32(1_000_000)
        expectRefused(file, mentioning: ["tokenizer.ggml.bos_token_id", "1000000"])

        file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.eos_token_id"] = .string("<|endoftext|>")
        expectRefused(file, mentioning: ["tokenizer.ggml.eos_token_id", "integer"])

        file = TinyGGUF.byteLevelTokenizer()
        guard case .strings(var tokens)? = file["tokenizer.ggml.tokens"] else { Issue.record("no tokens"); return }
        tokens[259] = "he"
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        expectRefused(file, mentioning: ["\"he\"", "twice", "256", "259"])

        tokens[259] = "a b"  // a raw space is not in the byte alphabet (it is spelled Ġ)
        file["tokenizer.ggml.tokens"] = .strings(tokens)
        expectRefused(file, mentioning: ["\"a b\"", "byte alphabet"])

        file = TinyGGUF.byteLevelTokenizer()
        file["tokenizer.ggml.merges"] = .floats([1])
        expectRefused(file, mentioning: ["tokenizer.ggml.merges", "array of strings"])
    }
}
