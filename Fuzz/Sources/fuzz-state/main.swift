// Fuzz target: a run folder resumed with --resume. The input is `state.json [<partSeparator> log.jsonl
// [<partSeparator> edits.jsonl]]`. The folder is opened for resuming as TuningJob opens it (the state read back,
// checked against the run, the logs cut at its step), and a state the check accepts is resumed for one step of its
// method on a tiny model: the check exists so that such a state cannot crash the run.
import Foundation
import FuzzSupport
import Models
import Runs
import Tasks
import Tuning

/// GPT-2 of width 4 over the byte tokenizer's 257 tokens; two-token prompts, and a policy of hidden width 3: what
/// the seed states were written for. Batches, samples and candidates are small to keep a step fast.
let model = try! DecoderModel(randomWeightsFor: GPT2Config(layers: 1, heads: 1, width: 4, positions: 64, vocabularySize: 257), seed: 1)
let configurations: [TuningConfiguration] = TuningMethod.allCases.map { method in
    var configuration = TuningConfiguration(method: method)
    configuration.promptLength = 2
    configuration.batchSize = 2
    configuration.policy.hiddenWidth = 3
    configuration.policy.samplesPerStep = 2
    configuration.search.candidates = 2
    configuration.search.candidatesPerPosition = 2
    return configuration
}
let tuningData: TuningData = {
    let template = try! TaskTemplate(TaskTemplate.pez)
    let examples = [LabeledText(text: "bad", label: 0), LabeledText(text: "good", label: 1)].map {
        try! template.encode($0, tokenizer: byteTokenizer, maxSentenceTokens: 16)
    }
    return TuningData(train: examples, dev: examples, verbalizer: try! Verbalizer(words: ["a", "b"], tokenizer: byteTokenizer),
                      promptFollowsText: template.promptFollowsText)
}()
let settings = RunSettings(model: "fuzz", modelSHA256: "", task: "fuzz", split: "s", data: "data", template: TaskTemplate.pez,
                           verbalizers: ["a", "b"], configuration: configurations[0])

/// The first configuration whose run `state` fits, as TuningJob checks it; the first refusal when none does.
func configuration(resuming state: TuningState) throws -> TuningConfiguration {
    var firstError: Error?
    for configuration in configurations {
        do {
            try state.validate(configuration: configuration, width: model.width, vocabularySize: model.vocabularySize)
            return configuration
        } catch {
            firstError = firstError ?? error
        }
    }
    throw firstError!
}

/// Resumes `state` with the tuner of `configuration`'s method and takes one more step.
func resume(_ state: TuningState, _ configuration: TuningConfiguration) throws {
    var c = configuration
    c.steps = min(state.step, TuningConfiguration.stepLimit - 1) + 1
    let tuner: any PromptSearch
    switch c.method {
    case .soft, .pez: tuner = try PromptTuner(model: model, tokenizer: byteTokenizer, data: tuningData, configuration: c, resuming: state)
    case .rlprompt: tuner = try RLPromptTuner(model: model, tokenizer: byteTokenizer, data: tuningData, configuration: c, resuming: state)
    case .gcg: tuner = try GCGTuner(model: model, tokenizer: byteTokenizer, data: tuningData, configuration: c, resuming: state)
    }
    try tuner.run { _ in }
    // What TuningJob hands out after the last step.
    _ = PromptEmbeddings(length: c.promptLength, width: model.width, values: tuner.state.best?.values ?? tuner.state.prompt)
    _ = try tuner.state.best?.ids ?? tuner.currentIds()
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let files = parts(of: input(data, size))
    let state = Scratch.write(files[0], to: "run/state.json")
    for (index, name) in ["log.jsonl", "edits.jsonl"].enumerated() {
        if files.count > index + 1 { Scratch.write(files[index + 1], to: "run/\(name)") } else { Scratch.remove("run/\(name)") }
    }
    allowingErrors {
        var chosen: TuningConfiguration?
        let saved = try RunDirectory(state.deletingLastPathComponent()).open(settings, resume: true) { chosen = try configuration(resuming: $0) }
        if let saved, let chosen { try resume(saved, chosen) }
    }
    return 0
}

runFuzzer(fuzz)
