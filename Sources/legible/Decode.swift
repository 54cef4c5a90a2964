// `legible decode`: read a tuned prompt as tokens: the nearest vocabulary entries of each position.
import ArgumentParser
import Foundation
import Runs
import Tuning

struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the nearest tokens of each position of a tuned prompt, and the prompt as text.")

    @OptionGroup var modelOptions: ModelOptions
    @Option(help: "A prompt.safetensors written by `legible tune`.") var prompt: String
    @Option(help: "Nearest tokens to list per position.") var top = 5
    @Option(help: "Similarity: cosine, l2 or dot.") var metric: ProjectionMetric = .cosine
    @Flag(name: .customLong("exclude-non-ascii"), help: "Skip non-ASCII tokens.") var excludeNonASCII = false
    @Flag(name: .customLong("exclude-non-words"), help: "Skip tokens that are not letters.") var excludeNonWords = false

    func validate() throws {
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let loaded = try LoadedModel.load(modelOptions)
        let tokenizer = try loaded.requireTokenizer()
        let file = try PromptFile.read(from: URL(fileURLWithPath: prompt), modelSHA256: try loaded.weightsSHA256(), modelName: loaded.name)
        try loaded.requireFits(file, path: prompt)
        let filter = TokenFilter(excludeNonASCII: excludeNonASCII, excludeNonWords: excludeNonWords)
        let projector = VocabularyProjector(model: loaded.model, metric: metric,
                                            allowed: filter.allowed(tokenizer: tokenizer, vocabularySize: loaded.model.vocabularySize))
        let neighbours = projector.neighbours(file.prompt, count: top)
        let m = file.metadata
        print("\(m.method) prompt, \(file.prompt.length) positions, tuned on \(m.task) \(m.split)" + (m.data.map { " from \($0)" } ?? "")
              + " with template \(String(reflecting: m.template)) and label words \(m.verbalizers.map { String(reflecting: $0) }.joined(separator: " "))")
        for (i, row) in neighbours.enumerated() {
            let cells = row.map { String(format: "%@ %.3f", String(reflecting: tokenizer.readableToken(for: $0.id) ?? "?"), $0.score) }
            print(String(format: "%3d  ", i) + cells.joined(separator: "  "))
        }
        let ids = neighbours.map { $0[0].id }
        print("nearest tokens as text: \(String(reflecting: tokenizer.decode(ids)))")
        if ids != file.metadata.ids {
            print("saved ids as text:      \(String(reflecting: file.metadata.text))  (tuned with other exclusions or metric)")
        }
    }
}
