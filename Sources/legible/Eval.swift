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
        abstract: "Evaluate a tuned prompt (--prompt FILE) or a text prompt (--text) on a task's test set.")

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "A prompt.safetensors written by `legible tune`.") var prompt: String?
    @Option(help: "A prompt written as text.") var text: String?
    @Option(help: "Examples per forward pass.") var batch = 16
    @Flag(help: "Print the report as JSON.") var json = false

    func validate() throws {
        if (prompt == nil) == (text == nil) { throw ValidationError("give exactly one of --prompt and --text") }
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
        var template = taskOptions.template
        if let prompt {
            let file = try PromptFile.read(from: URL(fileURLWithPath: prompt), modelSHA256: try loaded.weightsSHA256(), modelName: loaded.name)
            ids = file.metadata.ids
            method = file.metadata.method
            // A continuous prompt is used as such unless it was tuned to be read as its tokens only.
            soft = ["soft", "pez"].contains(file.metadata.method) ? file.prompt : nil
            template = template ?? file.metadata.template
        } else {
            ids = tokenizer.encode(text!)
        }
        var options = taskOptions
        options.template = template
        let task = try options.load(tokenizer: tokenizer)
        let evaluator = PromptEvaluator(model: loaded.model, tokenizer: tokenizer, task: task, batchSize: batch, testLimit: taskOptions.testLimit)
        let evaluation = try evaluator.evaluate(soft: soft, ids: ids) { console.status("evaluating on the test set: \($0)") }
        console.status("")
        let report = RunReport(
            method: method, model: loaded.name, task: task.definition.name, split: task.split, template: task.template.text,
            verbalizers: task.verbalizer.words, steps: 0, bestStep: nil, devAccuracy: nil, prompt: evaluation.prompt,
            test: evaluation.test, zeroShot: evaluation.zeroShot, faithfulness: evaluation.faithfulness,
            scrutability: evaluation.scrutability,
            timing: RunReport.Timing(seconds: 0, stepsPerSecond: 0, evaluationSeconds: evaluation.seconds))
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(ReportText.summary(report))
        }
    }
}
