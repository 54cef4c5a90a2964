// `legible generate`: continue a prompt, streaming tokens as they come.
import ArgumentParser
import Foundation
import Models

struct Generate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Continue a prompt with a KV-cached decoder (greedy unless --temperature > 0).")

    @OptionGroup var options: ModelOptions
    @Option(help: "Prompt text (needs tokenizer files beside the model).") var prompt: String?
    @Option(help: "Prompt as token ids, e.g. 15496,995.") var ids: String?
    @Option(name: .customLong("max-tokens"), help: "Most tokens to generate.") var maxTokens = 40
    @Option(help: "Sampling temperature; 0 is greedy.") var temperature: Float = 0
    @Option(name: .customLong("top-k"), help: "Sample only among the k most likely tokens.") var topK: Int?
    @Option(name: .customLong("top-p"), help: "Sample only within the smallest set of tokens holding this much probability.") var topP: Float?
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Print token ids instead of text.") var printIds = false

    func validate() throws {
        if (prompt == nil) == (ids == nil) { throw ValidationError("give exactly one of --prompt and --ids") }
        if maxTokens < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if temperature < 0 { throw ValidationError("--temperature cannot be negative") }
        if let topK, topK < 1 { throw ValidationError("--top-k must be at least 1") }
        if let topP, !(topP > 0 && topP <= 1) { throw ValidationError("--top-p must be in (0, 1]") }
    }

    func run() throws {
        let loaded = try LoadedModel.load(options)
        let input = try loaded.ids(text: prompt, ids: ids)
        guard !input.isEmpty else { throw CLIError("the prompt encodes to no tokens") }
        let stop = Set([loaded.tokenizer?.specialTokens.endOfText].compactMap { $0 })
        let sampling = SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed)
        let textOutput = loaded.tokenizer != nil && !printIds
        if textOutput, let prompt { print(prompt, terminator: "") }
        var produced: [Int32] = []
        var printed = ""
        try loaded.model.generate(prompt: input, options: GenerationOptions(maxTokens: maxTokens, sampling: sampling, stopTokens: stop)) { id in
            produced.append(id)
            if textOutput, let tokenizer = loaded.tokenizer {
                // Decode the whole continuation and print what is new, so multi-byte characters split across
                // tokens appear once complete.
                let text = tokenizer.decode(produced.filter { !stop.contains($0) })
                if !text.hasSuffix("\u{FFFD}"), text.hasPrefix(printed) {
                    print(text.dropFirst(printed.count), terminator: "")
                    printed = text
                }
            } else {
                print(id, terminator: " ")
            }
            fflush(stdout)
        }
        if textOutput, let tokenizer = loaded.tokenizer {
            let text = tokenizer.decode(produced.filter { !stop.contains($0) })
            if text.hasPrefix(printed) { print(text.dropFirst(printed.count), terminator: "") }
        }
        print()
    }
}
