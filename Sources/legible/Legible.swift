// The `legible` command-line tool: a thin tree of subcommands over the library targets.
import ArgumentParser

@main
struct Legible: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "legible",
        abstract: "Tune interpretable soft prompts for causal language models on the CPU.",
        subcommands: [Tune.self, Eval.self, Decode.self, Info.self, Next.self, Generate.self, Verify.self, Tokenize.self, Detokenize.self, Bench.self, Sweep.self])
}
