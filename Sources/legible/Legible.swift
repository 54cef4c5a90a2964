// The `legible` command-line tool: a thin tree of subcommands over the library targets.
import ArgumentParser
import Foundation
import Kernels

@main
struct Legible: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "legible",
        abstract: "Tune interpretable soft prompts for causal language models on the CPU.",
        subcommands: [Tune.self, Eval.self, Explain.self, Edits.self, Decode.self, Export.self, Import.self, Tasks.self, Info.self, Next.self, Generate.self, Verify.self, Tokenize.self, Detokenize.self, Bench.self, Sweep.self, Summary.self])

    static func main() {
        // OpenBLAS's generic kernels on a CPU it does not know are 6× slower: see BLASCore.
        BLASCore.reexecutingIfGeneric()
        // Swift replaces invalid UTF-8 in arguments with U+FFFD; a prompt or text typed that way would be measured
        // as other text. Standard input is refused the same way (Tokenize).
        for (index, argument) in rawArguments().enumerated().dropFirst() where String(validatingCString: argument) == nil {
            FileHandle.standardError.write(Data("Error: argument \(index) is not valid UTF-8 text.\n".utf8))
            Foundation.exit(64)
        }
        main(nil)
    }

    static func rawArguments() -> [UnsafeMutablePointer<CChar>] {
        (0..<Int(CommandLine.argc)).compactMap { CommandLine.unsafeArgv[$0] }
    }
}
