// A task ready to tune and evaluate on: dataset split, template and verbalizers, encoded for one tokenizer.
import Foundation
import Tokenizers
import Tuning

public struct PromptTask: Sendable {
    public let definition: TaskDefinition
    public let split: String
    public let template: TaskTemplate
    public let verbalizer: Verbalizer
    public let data: FewShotSplit
    public let maxSentenceTokens: Int
    public let train: [EncodedExample]
    public let dev: [EncodedExample]
    public let test: [EncodedExample]

    public init(name: String, split: String, dataRoot: URL, template: String, verbalizers: [String]? = nil,
                tokenizer: any Tokenizer, maxSentenceTokens: Int = 128) throws {
        definition = try TaskCatalog.task(named: name)
        self.split = split
        self.template = try TaskTemplate(template)
        let words = verbalizers ?? definition.verbalizers
        guard words.count == definition.classes else {
            throw TuningError.invalidConfiguration("\(definition.name) has \(definition.classes) classes; \(words.count) verbalizers given")
        }
        verbalizer = try Verbalizer(words: words, tokenizer: tokenizer)
        data = try FewShotSplit.load(root: dataRoot, dataset: definition.name, split: split, classes: definition.classes)
        self.maxSentenceTokens = maxSentenceTokens
        let encode = { [template = self.template] (rows: [LabeledText]) in
            try rows.map { try template.encode($0, tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens) }
        }
        train = try encode(data.train)
        dev = try encode(data.dev)
        test = try encode(data.test)
    }

    public var tuningData: TuningData {
        TuningData(train: train, dev: dev, verbalizer: verbalizer, promptFollowsText: template.promptFollowsText)
    }

    /// Test examples with a text prompt substituted into the template ("" for none).
    public func testWithText(_ prompt: String, tokenizer: any Tokenizer, limit: Int? = nil) throws -> [EncodedExample] {
        try data.test.prefix(limit ?? data.test.count).map {
            try template.encode($0, promptText: prompt, tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens)
        }
    }

    /// The longest encoded example with an n-token prompt, to check against the model's context.
    public func longestExample(promptLength n: Int) -> Int {
        (train + dev + test).map { $0.length(promptLength: n) }.max() ?? 0
    }
}
