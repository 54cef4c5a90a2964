// `legible explain`: why a prompt works, token by token, on the task its prompt file records.
import ArgumentParser
import Explanations
import WeightFiles
import Foundation
import Reports
import Runs
import Tuning

struct Explain: ParsableCommand {
    static let defaultTestLimit = 200

    static let configuration = CommandConfiguration(
        abstract: "Explain a prompt: which of its tokens do the work, and guidelines read off the numbers.",
        discussion: """
        The prompt is read as its token ids, on the task its file records (flags override, as in `eval`), on \
        --test-limit test examples (default \(defaultTestLimit), spread over the test file). For each token: accuracy and \
        mean label margin with the token removed and with it replaced by the nearest neutral function word \
        (\(PromptExplainer.neutralWords.map { String(reflecting: $0) }.joined(separator: ", "))), gradient × input \
        saliency on the label margin, and its embedding's cosine to each label word. Then prediction rates per \
        class with and without the prompt, examples the prompt fixes and breaks, the shortest sub-prompt greedy \
        removal finds that keeps 90% of the gain over no prompt, and guidelines in plain sentences. The label margin \
        is the label's log-probability minus the best other class's. Every accuracy is an exact evaluation: a prompt of \
        n tokens costs about 2n + 2 passes over the examples, plus up to n²/2 for the sub-prompt.
        """)

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var taskOptions: TaskOptions
    @Option(help: "A prompt.safetensors written by `legible tune`.") var prompt: String?
    @Option(help: "A prompt written as text, read as its tokens.") var text: String?
    @Option(help: "Examples per forward pass.") var batch = 16
    @Option(help: ArgumentHelp("Also write explanation.json, explanation.txt and explanation.html (a page that reads offline) into this folder.", valueName: "folder")) var out: String?
    @Option(name: .customLong("transfer-model"), help: ArgumentHelp("Also evaluate the prompt's text, typed, on this model with its own tokenizer.", valueName: "folder"))
    var transferModel: String?
    @Flag(help: "Print the explanation as JSON.") var json = false

    func validate() throws {
        if (prompt == nil) == (text == nil) { throw ValidationError("give exactly one of --prompt and --text") }
        if batch < 1 { throw ValidationError("--batch must be at least 1") }
    }

    func run() throws {
        let console = Console()
        console.status("loading \(modelOptions.model)")
        let loaded = try LoadedModel.load(modelOptions)
        let tokenizer = try loaded.requireTokenizer()
        var options = taskOptions
        let ids: [Int32]
        if let prompt {
            let file = try loaded.readPrompt(prompt, otherModelHint: "explain its text on \(loaded.name) with --text")
            ids = file.metadata.ids
            for notice in options.fill(from: file.metadata) { console.line(notice) }
        } else {
            ids = tokenizer.encode(text!)
        }
        guard !ids.isEmpty else { throw CLIError("the prompt has no tokens to explain") }
        let task = try options.load(tokenizer: tokenizer)
        let explainer = PromptExplainer(model: loaded.model, tokenizer: tokenizer, task: task,
                                        testLimit: options.testLimit ?? Self.defaultTestLimit, testRows: options.testRows, batchSize: batch)
        var explanation = try explainer.explain(ids: ids) { console.status("explaining: \($0)") }
        if let transferModel {
            console.status("loading \(transferModel)")
            var otherOptions = modelOptions
            otherOptions.model = transferModel
            let other = try LoadedModel.load(otherOptions)
            let otherTokenizer = try other.requireTokenizer()
            let otherExplainer = PromptExplainer(model: other.model, tokenizer: otherTokenizer, task: try options.load(tokenizer: otherTokenizer),
                                                 testLimit: options.testLimit ?? Self.defaultTestLimit, testRows: options.testRows, batchSize: batch)
            try explainer.addTransfer(to: &explanation, on: otherExplainer, modelName: other.name) { console.status("transfer: \($0)") }
        }
        console.status("")
        let encoded = try Self.encoder.encode(explanation)
        let text = ExplanationText.render(explanation)
        if let out {
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try AtomicFile.write(encoded, to: folder.appendingPathComponent("explanation.json"))
            try AtomicFile.write(Data(text.utf8), to: folder.appendingPathComponent("explanation.txt"))
            try AtomicFile.write(Data(ExplanationPage.html(explanation).utf8), to: folder.appendingPathComponent("explanation.html"))
        }
        print(json ? String(decoding: encoded, as: UTF8.self) : text)
    }

    /// JSON keys as the documentation names them: accuracy_without, label_affinity, …
    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}
