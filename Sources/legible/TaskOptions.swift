// Options that choose a task: data root, task folder, split, template, label words, columns.
import ArgumentParser
import Foundation
import Tasks
import Tokenizers
import Tuning

struct TaskOptions: ParsableArguments {
    static let defaultTask = "sst-2"
    static let defaultData = "data/fewshot"

    @Option(help: ArgumentHelp("A task folder under --data, holding <split>/{train,dev,test}.tsv|csv|jsonl and optionally task.json. Shipped: sst-2, mr, subj, trec, agnews, sst-5 (default sst-2; `legible tasks` lists what a data root holds).", valueName: "name"))
    var task: String?
    @Option(help: ArgumentHelp("A split folder of the task (the shipped tasks have 16-100, 16-13, 16-21, 16-42). Default: 16-100, or the task's only split.", valueName: "folder"))
    var split: String?
    @Option(help: ArgumentHelp("Data root holding <task>/<split>/… (default data/fewshot).", valueName: "folder")) var data: String?
    @Option(help: ArgumentHelp("Template with {prompt} and {sentence}, or a name: pez (\"{prompt} {sentence} It was\") or rlprompt (\"{sentence} {prompt}\"). The label word is predicted right after it. Default: the task's (task.json), else pez; rlprompt for --method rlprompt and gcg.", valueName: "text"))
    var template: String?
    @Option(name: .customLong("verbalizer"), help: ArgumentHelp("A label word, once per class in class order (default: the task's; words usually start with a space). A word of several tokens is scored by its tokens' summed log-probabilities, which runs each sentence up to once per such word.", valueName: "word"))
    var verbalizers: [String] = []
    @Option(name: .customLong("text-column"), help: ArgumentHelp("The data files' text column (default: sentence or text).", valueName: "name"))
    var textColumn: String?
    @Option(name: .customLong("label-column"), help: ArgumentHelp("The data files' label column (default: label).", valueName: "name"))
    var labelColumn: String?
    @Option(name: .customLong("manual-prompt"), help: ArgumentHelp("The prompt a person would write, for the zero-shot baseline (default: the task's).", valueName: "text"))
    var manualPrompt: String?
    @Option(name: .customLong("max-sentence-tokens"), help: "Truncate sentences to this many tokens.") var maxSentenceTokens = 128
    @Option(name: .customLong("test-limit"), help: "Evaluate on N test examples spread evenly over the test file (default: the whole test set).") var testLimit: Int?
    @Option(name: .customLong("test-rows"), help: ArgumentHelp("With --test-limit: spread (evenly over the file) or first (the first N, as runs before the spread measured).", valueName: "rows"))
    var testRows: TestRows = .spread

    func validate() throws {
        if maxSentenceTokens < 1 { throw ValidationError("--max-sentence-tokens must be at least 1") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1") }
        if let task, task.isEmpty || task.contains("/") { throw ValidationError("--task is a folder name under --data") }
    }

    var taskName: String { task ?? Self.defaultTask }
    var dataRoot: String { data ?? Self.defaultData }

    /// What the flags say about the task; task.json and the preset fill the rest.
    var overrides: TaskDescription {
        TaskDescription(labelWords: verbalizers.isEmpty ? nil : verbalizers, template: template, manualPrompt: manualPrompt,
                        textColumn: textColumn, labelColumn: labelColumn)
    }

    func load(tokenizer: any Tokenizer, method: TuningMethod = .pez) throws -> PromptTask {
        try PromptTask(name: taskName, split: split, dataRoot: URL(fileURLWithPath: dataRoot), overrides: overrides,
                       defaultTemplate: TaskTemplate.text(nil, method: method), tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens)
    }
}

extension TestRows: ExpressibleByArgument {}
