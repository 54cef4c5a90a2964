// `legible next`: the model's distribution over the next token.
import ArgumentParser
import Foundation
import Models

struct Next: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show the most likely next tokens after a text or a list of token ids.")

    @OptionGroup var options: ModelOptions
    @Option(help: "Input text (needs tokenizer files beside the model).") var text: String?
    @Option(help: "Input token ids, e.g. 15496,995.") var ids: String?
    @Option(help: "How many tokens to list.") var top = 10
    @Flag(help: "Print JSON: {\"ids\": [...], \"top\": [{\"id\", \"token\", \"prob\", \"logprob\"}, ...]}.") var json = false

    func validate() throws {
        if (text == nil) == (ids == nil) { throw ValidationError("give exactly one of --text and --ids") }
        if top < 1 { throw ValidationError("--top must be at least 1") }
    }

    func run() throws {
        let loaded = try LoadedModel.load(options)
        let input = try loaded.ids(text: text, ids: ids)
        guard !input.isEmpty else { throw CLIError("the input encodes to no tokens") }
        let logits = try loaded.model.forward(ids: [input]) { .lastTokens(of: $0) }
        let ranked = NextTokenDistribution(logits: logits.row(0)).top(min(top, logits.columns))
        if json {
            let entries: [[String: Any]] = ranked.map { entry in
                var object: [String: Any] = ["id": entry.id, "prob": entry.probability, "logprob": entry.logProbability]
                if let token = loaded.render(entry.id) { object["token"] = token }
                return object
            }
            let data = try JSONSerialization.data(withJSONObject: ["ids": input.map(Int.init), "top": entries], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            for entry in ranked {
                let token = loaded.render(entry.id).map { "  \(String(reflecting: $0))" } ?? ""
                print(String(format: "%7d  %8.5f  %9.4f", entry.id, entry.probability, entry.logProbability) + token)
            }
        }
    }
}
