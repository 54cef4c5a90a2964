// `legible tokenize` and `legible detokenize`: text ⇄ token ids with a model directory's tokenizer.

import ArgumentParser
import Foundation
import Tokenizers

/// The tokenizer a command works with.
struct TokenizerOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Model directory holding tokenizer files (tokenizer.json, vocab.json + merges.txt, "
                + "encoder.json + vocab.bpe, tokenizer.model, or one .gguf file).", valueName: "dir"))
    var model: String

    func loadTokenizer() throws -> any Tokenizer {
        try TokenizerLoader.load(directory: URL(fileURLWithPath: model, isDirectory: true))
    }
}

/// Input the user gave that cannot be used; ArgumentParser prints the message and exits non-zero.
struct InvalidInput: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// All of standard input, unchanged.
private func readStandardInput() -> Data {
    FileHandle.standardInput.readDataToEndOfFile()
}

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the token ids of a text.",
        discussion: """
            Reads the text from --text, or else all of standard input byte for byte (a trailing newline \
            is encoded too). Prints the ids separated by spaces. No beginning-of-sequence token is added \
            unless --add-special is given.
            """)

    @OptionGroup var tokenizer: TokenizerOptions

    @Option(help: "The text to encode (default: standard input).")
    var text: String?

    @Flag(help: "Print {\"ids\": [...], \"tokens\": [...]} with a readable rendering of each token.")
    var json = false

    @Flag(help: "Add the special tokens the tokenizer adds by default (a beginning-of-sequence token for Gemma; none for GPT-2).")
    var addSpecial = false

    @Flag(help: "Time encoding instead of printing ids: reports tokens per second on standard error.")
    var bench = false

    @Flag(help: "With --bench, encode each line of the input as its own text.")
    var lines = false

    func validate() throws {
        if lines && !bench { throw ValidationError("--lines only applies to --bench.") }
        if bench && json { throw ValidationError("--bench and --json cannot be combined.") }
    }

    func run() throws {
        let tokenizer = try tokenizer.loadTokenizer()
        let input = try text ?? {
            let data = readStandardInput()
            guard let text = String(data: data, encoding: .utf8) else {
                throw InvalidInput("Standard input is not valid UTF-8 text.")
            }
            return text
        }()

        if bench {
            let texts = lines ? input.split(separator: "\n", omittingEmptySubsequences: true).map(String.init) : [input]
            Self.benchmark(tokenizer, texts: texts, addSpecial: addSpecial)
            return
        }

        let ids = tokenizer.encode(input, addSpecial: addSpecial)
        if json {
            let output = TokenizedJSON(ids: ids, tokens: tokenizer.readableTokens(for: ids))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(output), as: UTF8.self))
        } else {
            print(ids.map(String.init).joined(separator: " "))
        }
    }

    /// One cold pass (empty caches), then the best of several warm passes, single-threaded.
    static func benchmark(_ tokenizer: any Tokenizer, texts: [String], addSpecial: Bool) {
        func pass() -> (tokens: Int, seconds: Double) {
            let start = DispatchTime.now().uptimeNanoseconds
            var tokens = 0
            for text in texts { tokens += tokenizer.encode(text, addSpecial: addSpecial).count }
            return (tokens, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        let cold = pass()
        var best = Double.infinity
        var spent = 0.0
        var passes = 0
        while passes < 10 && (spent < 3 || passes < 2) {
            let warm = pass()
            best = min(best, warm.seconds)
            spent += warm.seconds
            passes += 1
        }
        let report = String(
            format: "%d texts, %d bytes, %d tokens; cold pass %.4f s (%.0f tokens/s); best of %d warm passes %.4f s (%.0f tokens/s)\n",
            texts.count, bytes, cold.tokens, cold.seconds, Double(cold.tokens) / cold.seconds, passes, best,
            Double(cold.tokens) / best)
        FileHandle.standardError.write(Data(report.utf8))
    }
}

private struct TokenizedJSON: Encodable {
    let ids: [Int32]
    let tokens: [String]
}

struct Detokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the text of token ids.",
        discussion: """
            Reads ids separated by spaces, commas or newlines (brackets are ignored) from --ids, or else \
            from standard input. Prints the decoded text exactly, without adding a newline.
            """)

    @OptionGroup var tokenizer: TokenizerOptions

    @Option(help: "The ids to decode, e.g. \"15496 995\" (default: standard input).")
    var ids: String?

    func run() throws {
        let tokenizer = try tokenizer.loadTokenizer()
        let input = ids ?? String(decoding: readStandardInput(), as: UTF8.self)
        let parsed = try Self.parseIDs(input, vocabularySize: tokenizer.vocabularySize)
        FileHandle.standardOutput.write(Data(tokenizer.decode(parsed).utf8))
    }

    static func parseIDs(_ text: String, vocabularySize: Int) throws -> [Int32] {
        let separators: Set<Character> = [" ", ",", "\n", "\r\n", "\t", "[", "]"]
        return try text.split(whereSeparator: { separators.contains($0) }).map { field in
            guard let id = Int32(field) else { throw InvalidInput("'\(field)' is not a token id.") }
            guard id >= 0 && Int(id) < vocabularySize else {
                throw InvalidInput("Token id \(id) is outside this vocabulary (0..<\(vocabularySize)).")
            }
            return id
        }
    }
}
