// The `legible` command-line tool: a thin tree of subcommands over the library targets.
import ArgumentParser
import Kernels

@main
struct Legible: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "legible",
        abstract: "Tune interpretable soft prompts for causal language models on the CPU.",
        subcommands: [Tune.self, Eval.self, Decode.self, Tasks.self, Info.self, Next.self, Generate.self, Verify.self, Tokenize.self, Detokenize.self, Bench.self, Sweep.self, Summary.self])

    static func main() {
        // OpenBLAS's generic kernels on a CPU it does not know are 6× slower: see BLASCore.
        BLASCore.reexecutingIfGeneric()
        main(nil)
    }
}
