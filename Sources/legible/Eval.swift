// `legible eval`: measure a saved prompt, or a prompt written as text, on a task's test set.
import ArgumentParser
import Foundation
import Reports
import Runs
import Sweeps
import Tasks
import Tuning

struct Eval: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Evaluate a tuned prompt (--prompt FILE) or a text prompt (--text) on a task's test set.",
        discussion: """
        A prompt file remembers the task it was tuned on (task, data root, split, template, label words, manual \
        prompt): `eval --prompt FILE` evaluates on that task unless flags say otherwise, and says what it used. \
        With --as-text, the prompt's text is evaluated as a person would type it, on any model: \
        `legible eval --prompt run/prompt.safetensors --model models/other --as-text`.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @OptionGroup var zeroShotCacheOptions: ZeroShotCacheOptions
    @Option(help: "A prompt.safetensors written by `legible tune`.") var prompt: String?
    @Option(help: "A prompt written as text.") var text: String?
    @Flag(name: .customLong("as-text"), help: "Evaluate only the prompt file's text, typed (works on a model other than the one it was tuned on).")
    var asText = false
    @Option(help: "Examples per forward pass.") var batch = 16
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        if (prompt == nil) == (text == nil) { throw ValidationError("give exactly one of --prompt and --text") }
        if asText && prompt == nil { throw ValidationError("--as-text reads a prompt file: give --prompt") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let console = Console()
        console.status("loading \(modelOptions.model)")
        let loaded = try LoadedModel.load(modelOptions)
        let tokenizer = try loaded.requireTokenizer()
        var soft: PromptEmbeddings?
        var ids: [Int32]
        var method = "text"
        var options = taskOptions
        if let prompt {
            let file = try loaded.readPrompt(prompt, anyModel: asText, otherModelHint: "add --as-text to evaluate its text on \(loaded.name)")
            if asText {
                ids = tokenizer.encode(file.metadata.text)
                method = "\(file.metadata.method) as text"
            } else {
                ids = file.metadata.ids
                method = file.metadata.method
                // A continuous prompt is used as such unless it was tuned to be read as its tokens only.
                soft = ["soft", "pez"].contains(file.metadata.method) ? file.prompt : nil
            }
            for notice in options.fill(from: file.metadata) { console.line(notice) }
        } else {
            ids = tokenizer.encode(text!)
        }
        let task = try options.load(tokenizer: tokenizer)
        let evaluator = PromptEvaluator(model: loaded.model, tokenizer: tokenizer, task: task, batchSize: batch, testLimit: options.testLimit,
                                        testRows: options.testRows, zeroShotCache: zeroShotCacheOptions.cache(modelSHA256: try loaded.weightsSHA256()))
        let evaluation = try evaluator.evaluate(soft: soft, ids: ids) { console.status("evaluating on the test set: \($0)") }
        console.status("")
        let report = RunReport(
            method: method, model: loaded.name, task: task.definition.name, split: task.split, template: task.template.text,
            verbalizers: task.verbalizer.words, steps: 0, bestStep: nil, devAccuracy: nil, prompt: evaluation.prompt,
            test: evaluation.test, zeroShot: evaluation.zeroShot, faithfulness: evaluation.faithfulness,
            scrutability: evaluation.scrutability,
            timing: RunReport.Timing(seconds: 0, stepsPerSecond: 0, evaluationSeconds: evaluation.seconds))
        if json {
            print(String(decoding: try JSONEncoder.prettySorted.encode(report), as: UTF8.self))
        } else {
            print(ReportText.summary(report))
        }
    }
}

extension PromptFileError {
    var isDifferentModel: Bool { if case .differentModel = self { return true } else { return false } }
}

extension TaskOptions {
    /// Takes what the flags leave open from a prompt file's record of its task, and returns one line per choice
    /// for the user: what came from the file and which flag overrode it. A different task keeps only the prompt's
    /// template; its label words and manual prompt belong to the task the file recorded.
    mutating func fill(from metadata: PromptMetadata) -> [String] {
        var notices: [String] = []
        func choose(_ flag: String, _ given: String?, _ recorded: String?) -> String? {
            guard let recorded else { return given }
            if let given, given != recorded { notices.append("\(flag) \(String(reflecting: given)) overrides the prompt file's \(String(reflecting: recorded))") }
            return given ?? recorded
        }
        task = choose("--task", task, metadata.task)
        data = choose("--data", data, metadata.data)
        let sameTask = taskName == metadata.task && dataRoot == (metadata.data ?? Self.defaultData)
        split = choose("--split", split, sameTask ? metadata.split : nil)
        template = choose("--template", template.map(TaskTemplate.text(named:)), metadata.template)
        if sameTask {
            let recordedWords = metadata.verbalizers.map { String(reflecting: $0) }.joined(separator: " ")
            if !verbalizers.isEmpty, verbalizers != metadata.verbalizers {
                notices.append("--verbalizer overrides the prompt file's label words \(recordedWords)")
            }
            if verbalizers.isEmpty { verbalizers = metadata.verbalizers }
            if let recorded = metadata.taskDescription {
                manualPrompt = manualPrompt ?? recorded.manualPrompt
                textColumn = textColumn ?? recorded.textColumn
                labelColumn = labelColumn ?? recorded.labelColumn
            }
        }
        notices.insert("evaluating on \(taskName) \(split ?? "(default split)") from \(dataRoot) with template \(String(reflecting: template ?? "")) and label words "
                       + verbalizers.map { String(reflecting: $0) }.joined(separator: " ") + " (as the prompt file records unless a flag overrode it)", at: 0)
        return notices
    }
}
