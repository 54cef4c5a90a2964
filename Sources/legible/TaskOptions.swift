// Options that choose a task: dataset, split, template, verbalizers.
import ArgumentParser
import Evaluation
import Foundation
import Tokenizers
import Tuning

struct TaskOptions: ParsableArguments {
    @Option(help: "Few-shot task: sst-2, mr, subj, trec, agnews, sst-5.") var task = "sst-2"
    @Option(help: "Split folder: 16-100, 16-13, 16-21 or 16-42.") var split = "16-100"
    @Option(help: "Data root holding <task>/<split>/{train,dev,test}.tsv.") var data = "data/fewshot"
    @Option(help: ArgumentHelp("Template with {prompt} and {sentence}, or a name: pez (\"{prompt} {sentence} It was\") or rlprompt (\"{sentence} {prompt}\"). The label word is predicted right after it. Default: pez; rlprompt for --method rlprompt and gcg.", valueName: "text"))
    var template: String?
    @Option(name: .customLong("verbalizer"), help: ArgumentHelp("A label word, once per class in label order (default: the task's; words usually start with a space). A word of several tokens is scored by its tokens' summed log-probabilities, which runs each sentence up to once per such word.", valueName: "word"))
    var verbalizers: [String] = []
    @Option(name: .customLong("max-sentence-tokens"), help: "Truncate sentences to this many tokens.") var maxSentenceTokens = 128
    @Option(name: .customLong("test-limit"), help: "Evaluate on the first N test examples only (default: the whole test set).") var testLimit: Int?

    func validate() throws {
        if maxSentenceTokens < 1 { throw ValidationError("--max-sentence-tokens must be at least 1") }
        if let testLimit, testLimit < 1 { throw ValidationError("--test-limit must be at least 1") }
    }

    func load(tokenizer: any Tokenizer, method: TuningMethod = .pez) throws -> PromptTask {
        try PromptTask(name: task, split: split, dataRoot: URL(fileURLWithPath: data), template: TaskTemplate.text(template, method: method),
                       verbalizers: verbalizers.isEmpty ? nil : verbalizers, tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens)
    }
}
