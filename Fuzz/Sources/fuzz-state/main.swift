// Fuzz target: a run folder resumed with --resume. The input is `state.json [<partSeparator> log.jsonl
// [<partSeparator> edits.jsonl]]`. The state is decoded and checked against a small run of each method, then the
// folder is opened for resuming as TuningJob does, which reads the state back and cuts the logs at its step.
import Foundation
import FuzzSupport
import Runs
import Tuning

/// Width 4, vocabulary 8, two-token prompts, a policy of hidden width 3: what the seed states were written for.
let (width, vocabularySize) = (4, 8)
let configurations: [TuningConfiguration] = TuningMethod.allCases.map { method in
    var configuration = TuningConfiguration(method: method)
    configuration.promptLength = 2
    configuration.policy.hiddenWidth = 3
    return configuration
}

func validate(_ state: TuningState) throws {
    var firstError: Error?
    for configuration in configurations {
        do {
            try state.validate(configuration: configuration, width: width, vocabularySize: vocabularySize)
            return
        } catch {
            firstError = firstError ?? error
        }
    }
    throw firstError!
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = parts(of: input(data, size))
    let state = Scratch.write(files[0], to: "run/state.json")
    for (index, name) in ["log.jsonl", "edits.jsonl"].enumerated() {
        if files.count > index + 1 { Scratch.write(files[index + 1], to: "run/\(name)") } else { Scratch.remove("run/\(name)") }
    }
    allowingErrors {
        let decoded = try JSONDecoder().decode(TuningState.self, from: Data(contentsOf: state))
        for configuration in configurations {
            allowingErrors { try decoded.validate(configuration: configuration, width: width, vocabularySize: vocabularySize) }
        }
    }
    let settings = RunSettings(model: "fuzz", modelSHA256: "", task: "fuzz", split: "s", data: "data", template: "{prompt} {sentence} It was",
                               verbalizers: [" a", " b"], configuration: configurations[0])
    allowingErrors { _ = try RunDirectory(state.deletingLastPathComponent()).open(settings, resume: true, validate: validate) }
    return 0
}

runFuzzer(fuzz)
