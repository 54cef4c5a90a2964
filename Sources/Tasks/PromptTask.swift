// A task ready to tune and evaluate on: dataset split, template and label words, encoded for one tokenizer.
import Foundation
import Tokenizers
import Tuning

public struct PromptTask: Sendable {
    public let definition: TaskDefinition
    public let split: String
    /// The data root the task was read from.
    public let dataRoot: URL
    public let template: TaskTemplate
    public let verbalizer: Verbalizer
    public let data: FewShotSplit
    public let maxSentenceTokens: Int
    public let train: [EncodedExample]
    public let dev: [EncodedExample]
    public let test: [EncodedExample]

    /// Reads and encodes a task. `overrides` are the user's flags (label words, template, manual prompt, columns);
    /// the task's template, when neither the flags nor task.json give one, is `defaultTemplate` (the method's own).
    public init(name: String, split: String?, dataRoot: URL, overrides: TaskDescription = TaskDescription(),
                defaultTemplate: String = TaskTemplate.pez, tokenizer: any Tokenizer, maxSentenceTokens: Int = 128) throws {
        let loaded = try TaskData(name: name, split: split, root: dataRoot, overrides: overrides)
        definition = loaded.definition
        self.split = loaded.split
        self.dataRoot = dataRoot
        template = try TaskTemplate(TaskTemplate.text(named: definition.template ?? defaultTemplate))
        verbalizer = try Verbalizer(words: definition.labelWords, tokenizer: tokenizer)
        data = loaded.data
        self.maxSentenceTokens = maxSentenceTokens
        let encode = { [template] (rows: [LabeledText]) in
            try rows.map { try template.encode($0, tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens) }
        }
        train = try encode(data.train)
        dev = try encode(data.dev)
        test = try encode(data.test)
    }

    /// A task with this template and, when given, these label words (tests and scripts).
    public init(name: String, split: String, dataRoot: URL, template: String, verbalizers: [String]? = nil,
                tokenizer: any Tokenizer, maxSentenceTokens: Int = 128) throws {
        try self.init(name: name, split: split, dataRoot: dataRoot, overrides: TaskDescription(labelWords: verbalizers, template: template),
                      tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens)
    }

    /// The task as resolved, in task.json form, with the template in use: what a prompt file records so the
    /// prompt can be evaluated again without the flags it was tuned with.
    public var resolvedDescription: TaskDescription {
        TaskDescription(description: definition.description, labels: definition.labels, labelWords: definition.labelWords,
                        template: template.text, manualPrompt: definition.manualPrompt,
                        textColumn: definition.columns.text, labelColumn: definition.columns.label)
    }

    public var tuningData: TuningData {
        TuningData(train: train, dev: dev, verbalizer: verbalizer, promptFollowsText: template.promptFollowsText)
    }

    /// Which test rows an evaluation limited to `limit` examples reads: spread evenly over the file, first row
    /// included, so a test file sorted by label (MR's and Subj's are) still gives every class its share; or, as
    /// runs measured before the spread existed, the first `limit`.
    public static func testIndices(count: Int, limit: Int?, rows: TestRows = .spread) -> [Int] {
        guard let limit, limit < count else { return Array(0..<count) }
        switch rows {
        case .spread: return (0..<limit).map { $0 * count / limit }
        case .first: return Array(0..<limit)
        }
    }

    /// The test examples an evaluation limited to `limit` reads (all when nil).
    public func testExamples(limit: Int?, rows: TestRows = .spread) -> [EncodedExample] {
        Self.testIndices(count: test.count, limit: limit, rows: rows).map { test[$0] }
    }

    /// Test examples with a text prompt substituted into the template ("" for none), the same rows as `testExamples`.
    public func testWithText(_ prompt: String, tokenizer: any Tokenizer, limit: Int? = nil, rows: TestRows = .spread) throws -> [EncodedExample] {
        try Self.testIndices(count: data.test.count, limit: limit, rows: rows).map { data.test[$0] }.map {
            try template.encode($0, promptText: prompt, tokenizer: tokenizer, maxSentenceTokens: maxSentenceTokens)
        }
    }

    /// The longest encoded example with an n-token prompt, to check against the model's context.
    public func longestExample(promptLength n: Int) -> Int {
        (train + dev + test).map { $0.length(promptLength: n) }.max() ?? 0
    }
}

/// How a limited evaluation picks its test rows.
public enum TestRows: String, Codable, Sendable, CaseIterable {
    /// Evenly spaced over the test file (the default).
    case spread
    /// The first rows: what every run measured before `spread` existed; keeps an older study comparable.
    case first
}
