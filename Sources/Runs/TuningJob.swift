// One tuning run from start (or resume) to report: the tuner, its run directory, the test evaluation, the
// prompt file. `legible tune` runs one; a sweep runs many.
import Foundation
import Models
import Tasks
import Tokenizers
import Tuning

public enum TuningJobEvent {
    case resumed(step: Int)
    case step(StepRecord)
    case evaluating(String)
}

public struct TuningJob {
    public var model: any CausalLM
    public var tokenizer: any Tokenizer
    public var modelName: String
    public var modelSHA256: String
    public var task: PromptTask
    public var configuration: TuningConfiguration
    public var dataRoot: String
    public var testLimit: Int?
    /// RLPrompt's frozen policy model when it is not the task model.
    public var policyModel: (any CausalLM)?
    /// Zero-shot scores shared by the runs of one process on one model (a sweep's).
    public var zeroShotCache: ZeroShotCache?
    /// Which rows a limited test evaluation reads.
    public var testRows: TestRows = .spread

    public init(model: any CausalLM, tokenizer: any Tokenizer, modelName: String, modelSHA256: String, task: PromptTask,
                configuration: TuningConfiguration, dataRoot: String, testLimit: Int? = nil, policyModel: (any CausalLM)? = nil) {
        self.model = model; self.tokenizer = tokenizer; self.modelName = modelName; self.modelSHA256 = modelSHA256
        self.task = task; self.configuration = configuration; self.dataRoot = dataRoot; self.testLimit = testLimit
        self.policyModel = policyModel
    }

    /// The configuration as run: a manual-prompt start becomes the task's manual prompt, and the prompt takes its length.
    func resolvedConfiguration() throws -> TuningConfiguration {
        var c = configuration
        guard c.initialization == .manualPrompt else { return c }
        guard let manual = task.definition.manualPrompt else {
            throw TuningError.invalidConfiguration("task \(task.definition.name) has no manual prompt to start from (give \"manual_prompt\" in its task.json or --manual-prompt)")
        }
        c.initialization = .text(manual)
        c.promptLength = c.initialTokens(of: manual, promptFollowsText: task.template.promptFollowsText, tokenizer: tokenizer).count
        return c
    }

    func makeTuner(configuration: TuningConfiguration, resuming saved: TuningState?) throws -> any PromptSearch {
        switch configuration.method {
        case .soft, .pez:
            return try PromptTuner(model: model, tokenizer: tokenizer, data: task.tuningData, configuration: configuration, resuming: saved)
        case .rlprompt:
            return try RLPromptTuner(model: model, policyModel: policyModel, tokenizer: tokenizer, data: task.tuningData,
                                     configuration: configuration, resuming: saved)
        case .gcg:
            return try GCGTuner(model: model, tokenizer: tokenizer, data: task.tuningData, configuration: configuration, resuming: saved)
        }
    }

    /// Tunes into `directory` (continuing a saved state with `resume`), evaluates the best prompt on the test
    /// set, writes prompt.safetensors and report.json, and returns the report. `onEvent` may throw to stop
    /// between steps; everything up to the last finished step is on disk.
    public func run(in directory: RunDirectory, resume: Bool, onEvent: (TuningJobEvent) throws -> Void = { _ in }) throws -> RunReport {
        let configuration = try resolvedConfiguration()
        let n = configuration.promptLength
        if let context = model.contextLength, task.longestExample(promptLength: n) > context {
            throw TuningError.invalidConfiguration("the longest example with a \(n)-token prompt is \(task.longestExample(promptLength: n)) tokens; the model's context is \(context) (lower --max-sentence-tokens or --prompt-length)")
        }
        let settings = RunSettings(model: modelName, modelSHA256: modelSHA256, task: task.definition.name, split: task.split,
                                   data: dataRoot, template: task.template.text, verbalizers: task.verbalizer.words,
                                   configuration: configuration, precision: model.products.precision)
        let lock = try RunLock.acquire(directory.url)
        defer { lock.release() }
        let saved = try directory.open(settings, resume: resume) { state in
            try state.validate(configuration: configuration, width: model.width, vocabularySize: model.vocabularySize)
        }
        let tuner = try makeTuner(configuration: configuration, resuming: saved)
        if let saved { try onEvent(.resumed(step: saved.step)) }
        var saver = StateSaver(directory: directory)
        try tuner.run { record in
            try directory.append(record)
            try saver.stepFinished(tuner.state)
            do { try onEvent(.step(record)) } catch { try saver.flush(tuner.state); throw error }
        }
        try saver.flush(tuner.state)

        // The prompt handed out: the best by dev accuracy (ties to the later step), else the last.
        let best = tuner.state.best
        let soft = PromptEmbeddings(length: n, width: model.width, values: best?.values ?? tuner.state.prompt)
        let ids = try best?.ids ?? tuner.currentIds()
        let evaluator = PromptEvaluator(model: model, tokenizer: tokenizer, task: task, batchSize: configuration.batchSize, testLimit: testLimit,
                                        testRows: testRows, zeroShotCache: zeroShotCache)
        var stepError: Error?
        // RLPrompt's and gcg's prompts are their tokens: no continuous prompt to measure apart from them.
        let evaluation = try evaluator.evaluate(soft: configuration.method.isDiscrete ? nil : soft, ids: ids) { label in
            do { try onEvent(.evaluating(label)) } catch { stepError = error }
        }
        if let stepError { throw stepError }
        let metadata = PromptMetadata(model: modelName, modelSHA256: modelSHA256, method: configuration.method.rawValue,
                                      task: task.definition.name, split: task.split, template: task.template.text,
                                      verbalizers: task.verbalizer.words, ids: ids, text: evaluation.prompt.text,
                                      configuration: configuration, data: dataRoot, taskDescription: task.resolvedDescription)
        try PromptFile(prompt: soft, metadata: metadata).write(to: directory.prompt)
        let seconds = tuner.state.seconds
        let report = RunReport(
            method: configuration.method.rawValue, model: modelName, task: task.definition.name, split: task.split,
            template: task.template.text, verbalizers: task.verbalizer.words, steps: tuner.state.step,
            bestStep: best?.step, devAccuracy: best?.devAccuracy, prompt: evaluation.prompt, test: evaluation.test,
            zeroShot: evaluation.zeroShot, faithfulness: evaluation.faithfulness, scrutability: evaluation.scrutability,
            timing: RunReport.Timing(seconds: seconds, stepsPerSecond: Double(tuner.state.step) / max(seconds, 1e-9),
                                     evaluationSeconds: evaluation.seconds))
        try directory.write(report, to: directory.report)
        return report
    }
}
